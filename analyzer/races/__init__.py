"""The races job: ThreadSanitizer reports read from their logs (logs),
parsed, de-duplicated and attributed to globals (reports), with names for what
TSan left unsymbolized read from the built objects (binaries)."""
