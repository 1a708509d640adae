"""Statements for clients (issue 19, docs/statements.md): client plans (what a client
pays, versioned TOML files), one statement per client and billing period with lines
frozen once issued, the hierarchy transfer to a parent client, the PDF, and payment
requests sent by e-mail with a payment link through the top-up gateway."""
