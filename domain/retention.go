package domain

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// errRetentionForm says what a retention looks like.
var errRetentionForm = errors.New("want a number of days such as 90d, or a duration such as 720h")

// ParseRetention reads a retention: a number of days ("90d") or a Go duration ("720h").
func ParseRetention(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 100*365 {
			return 0, errRetentionForm
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, errRetentionForm
	}
	return d, nil
}

// FormatRetention writes a retention as ParseRetention reads it, in days when it is whole days.
func FormatRetention(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
	return d.String()
}
