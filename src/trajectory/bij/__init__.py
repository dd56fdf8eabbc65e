"""Beleidsinformatie Jeugd: the half-yearly delivery to CBS and the national outcome
indicators, read from the girls' files.

`codes` holds the protocol's code lists as data (one module, so that a code found wrong is
corrected in one place), `rules` the pure checks at intake (the citizen service number's
eleven-test, a known municipality), `report` the delivery and `indicators` the outcome
indicators. Nothing here writes a fact: the facts are recorded through the one write path.
"""
