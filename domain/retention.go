package domain

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// retentionForm says what a retention looks like.
const retentionForm = "want a number of days such as 90d, or a duration such as 720h"

// durationShape is the form of a Go duration, whatever its size.
var durationShape = regexp.MustCompile(`^[-+]?([0-9]*\.?[0-9]+(ns|us|µs|ms|s|m|h))+$`)

// maxRetentionDays bounds a retention in days: a hundred years.
const maxRetentionDays = 100 * 365

// ParseRetention reads a retention: a number of days ("90d") or a Go duration ("720h"). Each
// error says what is wrong with s: its form, its sign or its size.
func ParseRetention(s string) (time.Duration, error) {
	if s == "" {
		return 0, errors.New("is empty: " + retentionForm)
	}
	tooLong := func() error { return fmt.Errorf("%s is more than a hundred years (%dd)", Quote(s), maxRetentionDays) }
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		switch {
		case errors.Is(err, strconv.ErrRange), err == nil && n > maxRetentionDays:
			return 0, tooLong()
		case err != nil:
			return 0, fmt.Errorf("%s is not a whole number of days: %s", Quote(s), retentionForm)
		case n < 0:
			return 0, fmt.Errorf("%s is negative", Quote(s))
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil && durationShape.MatchString(s): // well formed, too large for a Duration
		return 0, tooLong()
	case err != nil:
		return 0, fmt.Errorf("%s: %s", Quote(s), retentionForm)
	case d < 0:
		return 0, fmt.Errorf("%s is negative", Quote(s))
	case d > maxRetentionDays*24*time.Hour:
		return 0, tooLong()
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
