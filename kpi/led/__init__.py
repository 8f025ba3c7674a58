"""一屏通览: rotation and options (rotation), the snapshot read into a board (board), and each
view's content (views)."""
