"""The CAP <-> EBM mapping's implementation; import it from ``protocols.cap_ebm``.

Kept out of ``protocols.cap``'s own imports so the CAP library never loads the EBD model.
"""
