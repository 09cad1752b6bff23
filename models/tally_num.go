package models

import "gorm.io/gorm"

// submitted_answers.num was REAL, which PostgreSQL stores in 4 bytes: a
// number answer such as 70886.8 came back as 70886.796875, so the mean of a
// number question drifted and the running tallies (summed from the
// submitted float64 values) differed from a recount of the stored values.
// DOUBLE PRECISION keeps what SQLite's REAL keeps (8 bytes); the tallies
// are then recounted from the stored values so the two agree again.
func init() {
	Register(Migration{Version: 411, Name: "number answers in double precision on PostgreSQL", Up: func(tx *gorm.DB, d Dialect) error {
		if d != Postgres {
			return nil
		}
		if err := tx.Exec("ALTER TABLE submitted_answers ALTER COLUMN num TYPE DOUBLE PRECISION").Error; err != nil {
			return err
		}
		return recountAllTalliesTx(tx, d)
	}})
}
