package sessdb

// FullRepairAtOpen reports whether Open ran the full session repair (no
// valid clean-shutdown mark) instead of the clean-shutdown path.
func FullRepairAtOpen(db *DB) bool { return db.sessions.fullRepair }
