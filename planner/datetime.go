package planner

import "time"

// FormatDate prints days since 1970-01-01 as YYYY-MM-DD.
func FormatDate(days int32) string {
	return time.Unix(int64(days)*86400, 0).UTC().Format("2006-01-02")
}

// FormatDatetime prints microseconds since the epoch as YYYY-MM-DD HH:MM:SS[.ffffff].
func FormatDatetime(us int64) string {
	t := time.UnixMicro(us).UTC()
	if us%1_000_000 != 0 {
		return t.Format("2006-01-02 15:04:05.000000")
	}
	return t.Format("2006-01-02 15:04:05")
}

// DaysFromCivil returns the day number of a proleptic Gregorian date.
func DaysFromCivil(y, m, d int) int32 {
	return int32(time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}
