"""Fitters (Padé, least squares, minimax) and the reports every fit carries (errors, poles)."""
