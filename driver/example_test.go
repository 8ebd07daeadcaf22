package driver_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/quernsql/quern/driver"
)

// Query CSV files through database/sql: the data directory names each
// table file by its name without extension.
func Example() {
	db, err := sql.Open("quern", "../testdata/tables?workers=2")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	rows, err := db.QueryContext(context.Background(),
		"SELECT city, count(*) AS people, avg(age) AS avg_age FROM people WHERE city IS NOT NULL GROUP BY city ORDER BY city")
	if err != nil {
		log.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var city string
		var n int64
		var avgAge float64 // a DECIMAL, scanned into a float64
		if err := rows.Scan(&city, &n, &avgAge); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%-5s %d %.1f\n", city, n, avgAge)
	}
	if err := rows.Err(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// Lima  2 45.0
	// Oslo  3 26.5
	// Paris 2 27.0
}

// Read a result as Arrow records, without converting values to Go, through
// sql.Conn.Raw.
func ExampleConn_QueryArrow() {
	db, err := sql.Open("quern", "../testdata/tables?workers=2")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	err = conn.Raw(func(dc any) error {
		res, err := dc.(*driver.Conn).QueryArrow(ctx, "SELECT region, sum(qty) AS qty FROM sales GROUP BY region ORDER BY region")
		if err != nil {
			return err
		}
		defer res.Release()
		for res.Next() {
			rec := res.Record() // valid until the next call to Next
			regions := rec.Column(0).(*array.String)
			qty := rec.Column(1).(*array.Decimal128) // SUM of a BIGINT is a DECIMAL, as in MySQL
			for i := 0; i < int(rec.NumRows()); i++ {
				fmt.Println(regions.Value(i), qty.ValueStr(i))
			}
		}
		return res.Err()
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// east (null)
	// north 6
	// south 12
}
