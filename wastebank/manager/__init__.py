"""Unit manager screens: stock, stock adjustments, off-takers, sales, cash book and daily
close, audit log (issue 4 items 3–6)."""
