package process

// WithoutLedgerCheck returns cfg with the ledger check of write_ok
// versions off: for benchmarks of the protocol alone, whose fake process
// commits nothing.
func WithoutLedgerCheck(cfg Config) Config {
	cfg.noLedgerCheck = true
	return cfg
}
