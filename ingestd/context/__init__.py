"""Context that closes the loop: what changed, how it was fixed before, whether it keeps coming back."""
