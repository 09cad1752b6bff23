package models

/*
extern int sqlite3_db_config(void*, int, ...);

// focal_qpsg sets SQLITE_DBCONFIG_ENABLE_QPSG (1007) to set (1 on, 0
// off, -1 leave) and returns the setting after, or -rc on error.
static int focal_qpsg(void *db, int set) {
	int on = 0;
	int rc = sqlite3_db_config(db, 1007, set, &on);
	return rc != 0 ? -rc : on;
}
*/
import "C"

import (
	"database/sql"
	"fmt"
	"reflect"
	"unsafe"

	"github.com/mattn/go-sqlite3"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
)

// sqliteDriver is the SQLite driver every store connection uses: mattn's,
// with the query planner stability guarantee turned on at connect.
//
// Why: SQLite 3.54 marks a statement for re-preparation when its plan
// looked at a bound value (say, "x = ?" where the value might be 0 or 1),
// and sqlite3_clear_bindings then expires such a statement outright. The
// driver clears the bindings before every execution, so those statements
// were parsed and planned again at every use: a third to two thirds of a
// respondent request's reads. With the guarantee, plans never depend on
// bound values (the planner then plans as for an unknown value, which is
// what our queries want), and the prepared-statement cache works.
const sqliteDriver = "sqlite3_focal"

// sqliteWriterDriver is the same for the single writer's connection,
// which also keeps its statement journals in memory (temp_store=MEMORY).
// A statement journal holds a copy of each page a statement changes, so
// that the statement alone can be undone; past 64 KiB SQLite moves it to
// a temporary file. The writer's once-a-second tally fold and search
// indexer passed that size every time, and then cost the writer a write
// system call for each page they changed. Only the writer: on the read
// connections temp_store=MEMORY would also hold an export's or a
// recount's temporary tables in memory.
const sqliteWriterDriver = "sqlite3_focal_writer"

func init() {
	sql.Register(sqliteDriver, &sqlite3.SQLiteDriver{ConnectHook: enableQPSG})
	sql.Register(sqliteWriterDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		if err := enableQPSG(c); err != nil {
			return err
		}
		if _, err := c.Exec("PRAGMA wal_autocheckpoint = "+itoa(WriterAutoCheckpointPages), nil); err != nil {
			return err
		}
		_, err := c.Exec("PRAGMA temp_store = MEMORY", nil)
		return err
	}})
}

// sqliteDialector is GORM's SQLite dialector on the named driver.
func sqliteDialector(driver, dsn string) gorm.Dialector {
	return sqlite.Dialector{DriverName: driver, DSN: dsn}
}

// enableQPSG sets SQLITE_DBCONFIG_ENABLE_QPSG on a new connection. The
// driver does not expose sqlite3_db_config nor the connection's handle;
// the handle is read from its db field.
func enableQPSG(c *sqlite3.SQLiteConn) error {
	on, err := qpsg(c, 1)
	if err == nil && on != 1 {
		err = fmt.Errorf("sqlite3: cannot enable the query planner stability guarantee (%d)", on)
	}
	return err
}

// qpsg sets (1, 0) or reads (-1) a connection's QPSG setting.
func qpsg(c *sqlite3.SQLiteConn, set int) (int, error) {
	f := reflect.ValueOf(c).Elem().FieldByName("db")
	if !f.IsValid() || f.Kind() != reflect.Pointer || f.IsNil() {
		return 0, fmt.Errorf("sqlite3: no connection handle to configure (driver changed?)")
	}
	return int(C.focal_qpsg(unsafe.Pointer(f.Pointer()), C.int(set))), nil
}
