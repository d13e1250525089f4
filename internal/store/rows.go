package store

// Rows is what both backends' query results (*sql.Rows, pgx.Rows) share.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// ScanRows reads every row of rows with scan; the caller closes rows.
func ScanRows[T any](rows Rows, scan func(func(dest ...any) error) (T, error)) ([]T, error) {
	var out []T
	if err := EachRow(rows, appendRow(&out, scan)); err != nil {
		return nil, err
	}
	return out, nil
}

// appendRow is a row callback (EachRow, QueryDB.Query) that appends
// what scan reads to out.
func appendRow[T any](out *[]T, scan func(func(dest ...any) error) (T, error)) func(func(dest ...any) error) error {
	return func(sc func(dest ...any) error) error {
		v, err := scan(sc)
		*out = append(*out, v)
		return err
	}
}

// EachRow calls fn with the Scan of every row of rows, until it fails;
// the caller closes rows.
func EachRow(rows Rows, fn func(func(dest ...any) error) error) error {
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}
