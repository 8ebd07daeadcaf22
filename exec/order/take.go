package order

// contiguous reports whether rows are from, from+1, from+2, …, so that a
// zero-copy slice can stand in for a copy.
func contiguous(rows []int32) bool {
	for i, r := range rows {
		if r != rows[0]+int32(i) {
			return false
		}
	}
	return true
}
