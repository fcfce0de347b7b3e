"""What every floor stands on and nothing of efflit's own: forked processes, files written
whole, the retries a server asks for."""
