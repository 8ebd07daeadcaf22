// Package driver is quern's database/sql driver. Importing it registers the
// driver "quern":
//
//	import (
//		"database/sql"
//		_ "github.com/quernsql/quern/driver"
//	)
//
//	db, err := sql.Open("quern", "?workers=4&data=/path/to/tables")
//	rows, err := db.QueryContext(ctx, "SELECT city, count(*) FROM people GROUP BY city")
//
// The data source name is an optional data directory followed by optional
// parameters: "[DIR][?key=value&…]". DIR and each data=DIR register every
// table file in the directory under its name without extension; workers,
// reducers, batch (rows per batch), split (bytes per map task) and tmp (the
// scratch directory) set the matching quern.Config fields. Unknown keys
// are an error. sql.Open opens the engine; the *sql.DB's connections share
// it (and its one SQL session, so SET applies to all of them), and
// (*sql.DB).Close stops it. To use a *quern.DB the program already has,
// use sql.OpenDB(driver.NewConnector(db)).
//
// Contexts are honoured: cancelling the context of QueryContext or
// ExecContext, or closing the rows early, cancels the job on every worker.
// Arguments are bound by the client: each '?' outside quotes and comments
// is replaced by a SQL literal of its argument (nil, integers, float64,
// bool, string, []byte, time.Time); named arguments are not supported.
// There are no transactions: BeginTx returns an error.
//
// Values come back typed, from the Arrow type of each column:
//
//	BIGINT            int64
//	BIGINT UNSIGNED   uint64 (scans into uint64, or into int64 when it fits)
//	DOUBLE            float64
//	DECIMAL(p,s)      string with exactly s digits after the point ("3.50"),
//	                  so no precision is lost; it scans into float64 or a
//	                  string, and big.Rat.SetString reads it exactly
//	VARCHAR           string (a copy: the Arrow buffers are reused)
//	BOOLEAN           bool
//	DATE              time.Time, midnight UTC
//	DATETIME          time.Time in UTC (the zone-less value as UTC)
//	NULL              nil
//
// Rows report each column's SQL type (ColumnTypeDatabaseTypeName: "BIGINT",
// "DECIMAL", …), its Go scan type (sql.NullInt64, sql.NullFloat64,
// sql.NullString, sql.NullBool, sql.NullTime, sql.Null[uint64]: every quern
// column is nullable), nullability and a decimal's precision and scale.
//
// Programs that want the Arrow records themselves, without a copy into Go
// values, reach the driver connection through sql.Conn.Raw:
//
//	conn, _ := db.Conn(ctx)
//	defer conn.Close()
//	err := conn.Raw(func(dc any) error {
//		res, err := dc.(*driver.Conn).QueryArrow(ctx, "SELECT …")
//		if err != nil {
//			return err
//		}
//		defer res.Release()
//		for res.Next() {
//			rec := res.Record() // valid until the next call to Next
//			…
//		}
//		return res.Err()
//	})
//
// The result belongs to the engine, not to the connection, so it may be
// read after Raw returns; it must be released either way.
package driver
