package domain

import (
	"testing"
	"time"
)

// A retention is days or a Go duration; each refusal says what is wrong with it.
func TestParseRetention(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"90d", 90 * 24 * time.Hour, ""},
		{"720h", 720 * time.Hour, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"0d", 0, ""},
		{"36500d", 36500 * 24 * time.Hour, ""},
		{"", 0, "is empty: want a number of days such as 90d, or a duration such as 720h"},
		{"-1h", 0, `"-1h" is negative`},
		{"-3d", 0, `"-3d" is negative`},
		{"1.5d", 0, `"1.5d" is not a whole number of days: want a number of days such as 90d, or a duration such as 720h`},
		{"300000d", 0, `"300000d" is more than a hundred years (36500d)`},
		{"99999999999999999999d", 0, `"99999999999999999999d" is more than a hundred years (36500d)`},
		{"99999999999h", 0, `"99999999999h" is more than a hundred years (36500d)`},
		{"900000h", 0, `"900000h" is more than a hundred years (36500d)`},
		{"a week", 0, `"a week": want a number of days such as 90d, or a duration such as 720h`},
	} {
		got, err := ParseRetention(tc.in)
		if tc.err == "" && (err != nil || got != tc.want) {
			t.Errorf("ParseRetention(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if tc.err != "" && (err == nil || err.Error() != tc.err) {
			t.Errorf("ParseRetention(%q) error = %v, want %q", tc.in, err, tc.err)
		}
	}
}
