"""The build engine: metrics → SQL (compile), per-quarter partial sums (partials), scores,
ranks and trends (scoring), and the build that writes the marts (build)."""
