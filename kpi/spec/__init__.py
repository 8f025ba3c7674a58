"""The spec language: metrics.yaml models (models), line-aware parsing (source), checks
(validate) and loading (load)."""
