"""The read side for the app and the CLI: page queries, CSV/XLSX exports, the review
workbook and the 填报 template — all on a read-only snapshot connection."""
