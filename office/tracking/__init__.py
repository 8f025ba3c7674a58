"""督办: the loop from a red figure to a closed item, on the application database.

- models: the tables (清障 problems, 为企办实事 projects and milestones, 督办 tasks and their history,
  双对标 benchmarks and 提升举措, 蜗牛/骏马 评议 results)
- rules: the status rules as pure functions (overdue, a task closing itself, a project's 红黄绿,
  解决率 / 按期销号率, the 统一社会信用代码 check)
- items: reading and changing items, scope-checked and audited (营商办 everything; 部门 its own
  unit's items; 区县 its district's)
- tasks: 督办 tasks proposed from a snapshot's red cells and 应报未报 after each build
- ledgers: the Excel 台账 (templates, recognition by headers, import, export in the same shape)
- leads: 蜗牛/骏马 candidates counted from a snapshot's records
"""
