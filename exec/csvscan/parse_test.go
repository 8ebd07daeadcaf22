package csvscan

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

func TestParseInt(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"007", 7, true},
		{"-12", -12, true},
		{"+12", 12, true},
		{"123456789012345678", 123456789012345678, true},
		{"9223372036854775807", math.MaxInt64, true},
		{"-9223372036854775808", math.MinInt64, true},
		{"9223372036854775808", 0, false},
		{"-9223372036854775809", 0, false},
		{"99999999999999999999999", 0, false},
		{"", 0, false},
		{"-", 0, false},
		{"1.0", 0, false},
		{" 1", 0, false},
		{"1 ", 0, false},
		{"1e3", 0, false},
		{"0x10", 0, false},
	}
	for _, c := range cases {
		got, ok := parseInt([]byte(c.in))
		if ok != c.ok || got != c.want {
			t.Errorf("parseInt(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestParseFloatSyntax(t *testing.T) {
	cases := []struct {
		in string
		ok bool
	}{
		{"1", true}, {"-1.5", true}, {"+.5", true}, {"5.", true}, {"1e5", true}, {"1E-5", true},
		{"1.5e+300", true}, {"0.000", true}, {"-0", true},
		{"", false}, {".", false}, {"-", false}, {"e5", false}, {"1e", false}, {"1e+", false},
		{"inf", false}, {"NaN", false}, {"0x1p3", false}, {"1_000", false}, {"1.2.3", false},
		{" 1", false}, {"1 ", false}, {"1e400", false}, {"--1", false},
	}
	for _, c := range cases {
		if _, ok := parseFloat([]byte(c.in)); ok != c.ok {
			t.Errorf("parseFloat(%q) ok = %v, want %v", c.in, ok, c.ok)
		}
	}
	if v, _ := parseFloat([]byte("-0")); !math.Signbit(v) {
		t.Errorf("parseFloat(-0) lost the sign")
	}
}

// TestParseFloatRounding checks both the fast path and the fallback against
// strconv, bit for bit, on shapes that hit each: short decimals like prices,
// long mantissas, and large exponents.
func TestParseFloatRounding(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	inputs := []string{"0.1", "0.3", "38222.80", "9007199254740993", "9007199254740992.5",
		"1e22", "1e23", "123456789012345678901234567890", "2.2250738585072011e-308", "4.9e-324", "1.7976931348623157e308"}
	for range 200000 {
		var s string
		switch rng.IntN(4) {
		case 0: // price-like
			s = strconv.Itoa(rng.IntN(1000000)) + "." + strconv.Itoa(rng.IntN(100))
		case 1: // up to 20 digits with a point anywhere
			d := strconv.FormatUint(rng.Uint64(), 10)
			k := rng.IntN(len(d) + 1)
			s = d[:k] + "." + d[k:]
			if s == "." {
				s = "0"
			}
		case 2: // mantissa with an exponent
			s = strconv.Itoa(rng.IntN(1<<30)) + "e" + strconv.Itoa(rng.IntN(60)-30)
		default: // what formatting a random float gives
			s = strconv.FormatFloat(math.Float64frombits(rng.Uint64()&^(0xFFF<<52)|uint64(rng.IntN(2046)+1)<<52), 'g', -1, 64)
		}
		inputs = append(inputs, s, "-"+s)
	}
	for _, s := range inputs {
		want, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("bad test input %q: %v", s, err)
		}
		got, ok := parseFloat([]byte(s))
		if !ok || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("parseFloat(%q) = %v (%v), strconv says %v", s, got, ok, want)
		}
	}
}

func TestParseFloatNoAlloc(t *testing.T) {
	inputs := [][]byte{[]byte("38222.80"), []byte("123456789012345678901234567890.5"), []byte("1e300")}
	allocs := testing.AllocsPerRun(100, func() {
		for _, b := range inputs {
			parseFloat(b)
		}
	})
	if allocs != 0 {
		t.Errorf("parseFloat allocates %v times per run", allocs)
	}
}

func TestParseDate(t *testing.T) {
	// Every day of a few centuries, checked against the time package.
	for d := time.Date(1599, 12, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2401; d = d.AddDate(0, 0, 1) {
		s := d.Format("2006-01-02")
		got, ok := parseDate([]byte(s))
		if want := int32(d.Unix() / 86400); !ok || got != want {
			t.Fatalf("parseDate(%q) = %d, %v; want %d", s, got, ok, want)
		}
	}
	for _, s := range []string{"0000-01-01", "9999-12-31"} {
		d, _ := time.Parse("2006-01-02", s)
		if got, ok := parseDate([]byte(s)); !ok || int64(got) != d.Unix()/86400 {
			t.Errorf("parseDate(%q) = %d, %v; want %d", s, got, ok, d.Unix()/86400)
		}
	}
	for _, s := range []string{"2023-02-29", "1900-02-29", "2024-13-01", "2024-00-10", "2024-01-00", "2024-04-31",
		"2024-1-01", "2024/01/01", "24-01-01", "2024-01-01 ", "2024-01-01T00:00", "abcd-ef-gh", ""} {
		if _, ok := parseDate([]byte(s)); ok {
			t.Errorf("parseDate(%q) accepted", s)
		}
	}
}

func TestParseBool(t *testing.T) {
	for s, want := range map[string]bool{"true": true, "TRUE": true, "True": true, "false": false, "FaLsE": false} {
		if got, ok := parseBool([]byte(s)); !ok || got != want {
			t.Errorf("parseBool(%q) = %v, %v", s, got, ok)
		}
	}
	for _, s := range []string{"t", "f", "1", "0", "yes", "truee", "fals", ""} {
		if _, ok := parseBool([]byte(s)); ok {
			t.Errorf("parseBool(%q) accepted", s)
		}
	}
}
