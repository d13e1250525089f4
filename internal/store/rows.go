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
	for rows.Next() {
		v, err := scan(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
