"""The audit log: canonical-JSON events in an RFC 6962 Merkle log with signed checkpoints.

`service.record` appends an event; `checkpoints.checkpoint_if_due` signs the tree head;
`proofs` makes receipts and consistency proofs that outsiders verify with the public key only;
`verify.verify_log` recomputes everything from the stored events and names what is wrong.
"""
