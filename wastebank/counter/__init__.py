"""The counter: find a member, record a deposit, print the receipt."""
