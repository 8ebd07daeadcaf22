package quern_test

import (
	"context"
	"fmt"
	"log"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/quernsql/quern"
)

// Word count, the classic MapReduce job: a .txt file is a table with one
// row per word.
func Example_wordCount() {
	cfg := quern.DefaultConfig()
	cfg.Workers, cfg.Reducers = 2, 2
	db, err := quern.Open(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	rr, err := db.Query(context.Background(),
		"SELECT word, count(*) AS n FROM `testdata/sample.txt` GROUP BY word ORDER BY n DESC, word LIMIT 3")
	if err != nil {
		log.Fatal(err)
	}
	defer rr.Release()
	for rr.Next() {
		rec := rr.Record() // valid until the next call to Next
		words := rec.Column(0).(*array.String)
		counts := rec.Column(1).(*array.Int64)
		for i := 0; i < int(rec.NumRows()); i++ {
			fmt.Println(words.Value(i), counts.Value(i))
		}
	}
	if err := rr.Err(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// by 37
	// each 27
	// into 27
}

// A GROUP BY over a CSV file registered under a name. Column types are
// inferred from a sample of the file; a missing value is NULL.
func Example_groupByCSV() {
	db, err := quern.Open(quern.Config{Workers: 2})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := db.RegisterFile("people", "testdata/tables/people.csv"); err != nil {
		log.Fatal(err)
	}

	rr, err := db.Query(context.Background(), `
		SELECT city, count(*) AS n, max(score) AS best
		FROM people
		GROUP BY city
		ORDER BY n DESC, city`)
	if err != nil {
		log.Fatal(err)
	}
	defer rr.Release()
	for rr.Next() {
		rec := rr.Record()
		for i := 0; i < int(rec.NumRows()); i++ {
			fmt.Println(rec.Column(0).ValueStr(i), rec.Column(1).ValueStr(i), rec.Column(2).ValueStr(i))
		}
	}
	if err := rr.Err(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// Oslo 3 90
	// Lima 2 59.75
	// Paris 2 71.25
	// (null) 1 77
}

// Run is Query with the job's statistics, complete once the result has
// been read to the end.
func ExampleDB_Run() {
	db, err := quern.Open(quern.Config{Workers: 2, Reducers: 3})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	res, err := db.Run(context.Background(), "SELECT word, count(*) AS n FROM `testdata/sample.txt` GROUP BY word")
	if err != nil {
		log.Fatal(err)
	}
	defer res.Release()
	var groups int64
	for res.Next() {
		groups += res.Record().NumRows()
	}
	if err := res.Err(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("words:", groups)
	for _, st := range res.Stats.Stages {
		fmt.Printf("stage %d: %d tasks\n", st.Stage, st.Tasks)
	}
	// Output:
	// words: 58
	// stage 0: 1 tasks
	// stage 1: 3 tasks
}

// Explain prints the job a query compiles to, without running it.
func ExampleDB_Explain() {
	db, err := quern.Open(quern.Config{Workers: 2})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	plan, err := db.Explain(context.Background(), "SELECT word, count(*) FROM `testdata/sample.txt` GROUP BY word")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(plan)
}
