"""Member registry screens: members, cards, import from paper books, statements (issue 3)."""
