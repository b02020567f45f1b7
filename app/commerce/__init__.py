"""Commerce: cart, checkout, payment providers, orders, the commission ledger, webhooks."""
