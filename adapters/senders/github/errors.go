package github

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v81/github"

	"herald/notify"
)

// sendError turns what go-github returned into a SendError. Rate limits are worth waiting
// for, other answers are classified like any HTTP answer (notify.ClassifyHTTP), and no
// answer is worth retrying unless the outbound policy refused the destination. go-github's own error texts quote the request URL, so the
// SendError says what went wrong in its own words.
func sendError(resp *gh.Response, err error, now time.Time) error {
	var limited *gh.RateLimitError
	var abused *gh.AbuseRateLimitError
	var rejected *gh.ErrorResponse
	switch {
	case errors.As(err, &limited):
		return &notify.SendError{Retryable: true, Status: statusOf(limited.Response), RetryAfter: rateLimitWait(limited.Response, now),
			Err: fmt.Errorf("rate limit exceeded: %s", limited.Message)}
	case errors.As(err, &abused):
		var wait time.Duration
		if abused.RetryAfter != nil && *abused.RetryAfter > 0 {
			wait = *abused.RetryAfter
		}
		return &notify.SendError{Retryable: true, Status: statusOf(abused.Response), RetryAfter: wait,
			Err: fmt.Errorf("secondary rate limit exceeded: %s", abused.Message)}
	case errors.As(err, &rejected) && rejected.Response != nil:
		return classify(rejected.Response, describe(rejected), now)
	case resp != nil && resp.Response != nil && (resp.StatusCode < 200 || resp.StatusCode > 299):
		return classify(resp.Response, "", now) // an answer go-github has its own type for, such as a 2FA demand
	case resp != nil && resp.Response != nil:
		// A 2xx that is not an issue (a proxy's page, say): perhaps nothing was created, but
		// trying again could open the issue twice.
		return &notify.SendError{Status: resp.StatusCode, Err: errors.New("the answer is not the created issue")}
	}
	var uerr *url.Error
	if errors.As(err, &uerr) { // quotes the URL: keep only the cause
		err = uerr.Err
	}
	if errors.Is(err, notify.ErrDestinationRefused) { // stays refused: say how to allow it
		return &notify.SendError{Err: err}
	}
	if notify.IsAddressFailure(err) {
		return &notify.SendError{Err: fmt.Errorf("%w; correct the host of the configuration's API URL", err)}
	}
	return &notify.SendError{Retryable: true, Err: fmt.Errorf("no answer: %w", err)}
}

// classify is notify.ClassifyHTTP, waiting for the rate limit's reset when GitHub asks to
// slow down (429) without a Retry-After.
func classify(resp *http.Response, description string, now time.Time) error {
	err := notify.ClassifyHTTP(resp, description, now)
	var se *notify.SendError
	if errors.As(err, &se) && se.Retryable && se.RetryAfter == 0 {
		se.RetryAfter = rateLimitWait(resp, now)
	}
	return err
}

// describe is GitHub's message and the fields it names, e.g. "Validation Failed;
// assignees: invalid".
func describe(e *gh.ErrorResponse) string {
	var parts []string
	if e.Message != "" {
		parts = append(parts, e.Message)
	}
	for _, fe := range e.Errors {
		switch {
		case fe.Field != "" && fe.Message != "":
			parts = append(parts, fe.Field+": "+fe.Message)
		case fe.Field != "":
			parts = append(parts, fe.Field+": "+fe.Code)
		case fe.Message != "":
			parts = append(parts, fe.Message)
		}
	}
	return strings.Join(parts, "; ")
}

// rateLimitWait is how long GitHub asks to wait: its Retry-After (seconds), else until its
// X-RateLimit-Reset (a Unix time); 0 when it says neither.
func rateLimitWait(resp *http.Response, now time.Time) time.Duration {
	if resp == nil {
		return 0
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
		if wait := time.Unix(reset, 0).Sub(now); wait > 0 {
			return wait
		}
	}
	return 0
}

// statusOf is the status of an answer, 0 without one.
func statusOf(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}
