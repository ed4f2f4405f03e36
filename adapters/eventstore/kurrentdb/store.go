// Package kurrentdb keeps herald's event log in KurrentDB (formerly EventStoreDB), through the
// official Go client, when herald runs as several instances.
//
// Each herald stream is a KurrentDB stream of the same name; a fact is an event whose type is
// the fact's type and whose data is the fact's JSON. Deleting a stream tombstones it (KurrentDB
// writes "$streamDeleted" to it, which herald's followers read as the deletion record).
// herald follows $all through a catch-up subscription filtered on the server by its stream
// prefixes (domain.StreamPrefixes), so a database shared with other applications costs it
// nothing for their events.
//
// Positions. herald's global position of a record is 2 × its $all commit position + 2.
// KurrentDB only accepts positions where a record starts; herald asks for "everything above p"
// with p either a record's position or one less (to read that record again), and the parity
// tells which: even p is a record, whose commit position the subscription starts after; odd p
// is "from the record at commit (p-1)/2", and the subscription starts after the record before
// it (found by reading $all backwards one record). Positions are therefore large and sparse;
// they are only ever compared. Commit and prepare positions are equal for every event not
// written in an explicit transaction, which herald never uses.
package kurrentdb

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	kdb "github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"herald/domain"
)

// Options configure a Store.
type Options struct {
	// URL is the connection string: kurrentdb://[user:password@]host:port[,host:port...]?tls=...
	// (esdb:// and the +discover forms too); see KurrentDB's documentation for TLS and
	// credentials settings.
	URL string
	// Username and Password, when set, override the connection string's credentials.
	Username, Password string
	// TLSCAFile, when set, is the PEM file of the CA that signed the server's certificate
	// (the connection string's tlsCAFile).
	TLSCAFile string
	// Prefixes are the stream prefixes the store follows in $all; domain.StreamPrefixes()
	// when empty.
	Prefixes []string
	// AppendConcurrency bounds the appends AppendMany has under way at once (64 when 0).
	AppendConcurrency int
	// Logger reports dropped subscriptions and the client's own messages; slog.Default()
	// when nil.
	Logger *slog.Logger
}

// Store is an event store on KurrentDB. It is safe for concurrent use.
type Store struct {
	cfg      *kdb.Configuration
	prefixes []string
	parallel int
	logger   *slog.Logger

	mu     sync.Mutex
	client *kdb.Client // replaced when the client gives up on the server (conn, failed)
	closed bool
}

// Open connects to KurrentDB and checks that it answers.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.URL == "" {
		return nil, errors.New("kurrentdb: no connection string (--eventstore-url)")
	}
	cfg, err := kdb.ParseConnectionString(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("kurrentdb: the connection string cannot be read: %w", err)
	}
	if opts.Username != "" {
		cfg.Username = opts.Username
	}
	if opts.Password != "" {
		cfg.Password = opts.Password
	}
	if opts.TLSCAFile != "" {
		pem, err := os.ReadFile(opts.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("kurrentdb: the CA certificate: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("kurrentdb: %s holds no PEM certificate", opts.TLSCAFile)
		}
		cfg.RootCAs = pool
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	clientLogger := opts.Logger.With("component", "kurrentdb-client")
	cfg.Logger = func(level kdb.LogLevel, format string, args ...any) {
		// The client reports a subscription it closed itself, or one the store takes up again,
		// as an error; the store says what matters at its own level.
		clientLogger.Debug(fmt.Sprintf(format, args...), "client_level", level)
	}
	client, err := kdb.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("kurrentdb: %w", err)
	}
	s := &Store{cfg: cfg, client: client, prefixes: opts.Prefixes, parallel: opts.AppendConcurrency, logger: opts.Logger}
	if len(s.prefixes) == 0 {
		s.prefixes = domain.StreamPrefixes()
	}
	if s.parallel <= 0 {
		s.parallel = 64
	}
	s.logger = s.logger.With("component", "kurrentdb")
	if _, err := s.LastPosition(ctx); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("kurrentdb: no answer from %s: %w", redact(opts.URL), err)
	}
	return s, nil
}

// CheckURL tells whether a connection string can be used, without connecting.
func CheckURL(url string) error {
	if url == "" {
		return errors.New("no connection string")
	}
	if _, err := kdb.ParseConnectionString(url); err != nil {
		return fmt.Errorf("the connection string %s cannot be read: %w", redact(url), err)
	}
	return nil
}

// redact hides the password of a connection string.
func redact(url string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return url
	}
	if at := strings.Index(rest, "@"); at >= 0 {
		if user, _, hasPassword := strings.Cut(rest[:at], ":"); hasPassword {
			return scheme + "://" + user + ":***" + rest[at:]
		}
	}
	return url
}

// Close closes the connection.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		_ = s.client.Close()
	}
	return nil
}

// ErrClosed is returned once the store was closed.
var ErrClosed = errors.New("the KurrentDB store is closed")

func (s *Store) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// conn is the client to call.
func (s *Store) conn() *kdb.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.client
}

// failed translates an error of a call made with c. When the client has given up on the
// server for good (it does after failing to reach it for about a second), a new one replaces
// it, so that the next call tries again.
func (s *Store) failed(c *kdb.Client, err error) error {
	var e *kdb.Error
	if errors.As(err, &e) && e.Code() == kdb.ErrorCodeConnectionClosed {
		s.mu.Lock()
		if s.client == c && !s.closed {
			if fresh, nerr := kdb.NewClient(s.cfg); nerr == nil {
				_ = c.Close()
				s.client = fresh
				s.logger.Warn("KurrentDB could not be reached; the client is opened again for the next call", "error", err)
			}
		}
		s.mu.Unlock()
	}
	return translate(err)
}

// Append appends facts to one stream if it is at the expected revision.
func (s *Store) Append(ctx context.Context, stream string, expected domain.ExpectedRevision, facts ...domain.Fact) (domain.AppendResult, error) {
	if len(facts) == 0 {
		return domain.AppendResult{}, fmt.Errorf("append to %s: no facts", stream)
	}
	events := make([]kdb.EventData, len(facts))
	for i, f := range facts {
		// A random id per event: KurrentDB treats an append of events it already holds as an
		// idempotent success, which would hide a duplicate recording from herald.
		events[i] = kdb.EventData{EventID: uuid.New(), EventType: f.Type, ContentType: kdb.ContentTypeJson, Data: f.Data}
	}
	c := s.conn()
	res, err := c.AppendToStream(ctx, stream, kdb.AppendToStreamOptions{StreamState: streamState(expected)}, events...)
	if err != nil {
		return domain.AppendResult{}, fmt.Errorf("append to %s (expecting %s): %w", stream, expected, s.failed(c, err))
	}
	return domain.AppendResult{NextRevision: res.NextExpectedVersion, Position: heraldPosition(res.CommitPosition)}, nil
}

// AppendMany appends to several streams, each append on its own, several at once. It fails as
// a whole only when KurrentDB cannot be reached; the appends it made then are not
// acknowledged, and recording them again finds them (no_stream expectations).
func (s *Store) AppendMany(ctx context.Context, appends []domain.StreamAppend) ([]domain.AppendOutcome, error) {
	out := make([]domain.AppendOutcome, len(appends))
	turns := make(chan struct{}, s.parallel)
	var wg sync.WaitGroup
	for i, a := range appends {
		turns <- struct{}{}
		wg.Go(func() {
			defer func() { <-turns }()
			out[i].Result, out[i].Err = s.Append(ctx, a.Stream, a.Expected, a.Facts...)
		})
	}
	wg.Wait()
	for _, o := range out {
		if o.Err != nil && !errors.Is(o.Err, domain.ErrConcurrency) && !errors.Is(o.Err, domain.ErrStreamDeleted) {
			return nil, o.Err
		}
	}
	return out, nil
}

// ReadStream returns a stream's facts in order.
func (s *Store) ReadStream(ctx context.Context, stream string) ([]domain.Record, error) {
	c := s.conn()
	read, err := c.ReadStream(ctx, stream, kdb.ReadStreamOptions{Direction: kdb.Forwards, From: kdb.Start{}}, ^uint64(0))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, s.failed(c, err))
	}
	defer read.Close()
	var out []domain.Record
	for {
		ev, err := read.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", stream, s.failed(c, err))
		}
		if r, ok := record(ev); ok {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("read %s: %w", stream, domain.ErrStreamNotFound)
	}
	return out, nil
}

// ReadLast returns the newest fact of a stream: one event read backwards from its end.
func (s *Store) ReadLast(ctx context.Context, stream string) (domain.Record, error) {
	c := s.conn()
	read, err := c.ReadStream(ctx, stream, kdb.ReadStreamOptions{Direction: kdb.Backwards, From: kdb.End{}}, 1)
	if err != nil {
		return domain.Record{}, fmt.Errorf("read %s: %w", stream, s.failed(c, err))
	}
	defer read.Close()
	for {
		ev, err := read.Recv()
		if errors.Is(err, io.EOF) {
			return domain.Record{}, fmt.Errorf("read %s: %w", stream, domain.ErrStreamNotFound)
		}
		if err != nil {
			return domain.Record{}, fmt.Errorf("read %s: %w", stream, s.failed(c, err))
		}
		if r, ok := record(ev); ok {
			return r, nil
		}
	}
}

// DeleteStream tombstones a stream: it can be neither read nor written again, and $all gets
// its "$streamDeleted" record. Deleting a stream never written is not found.
func (s *Store) DeleteStream(ctx context.Context, stream string, expected domain.ExpectedRevision) error {
	state := streamState(expected)
	if expected.IsAny() {
		state = kdb.StreamExists{} // a tombstone on nothing would reserve the name for good
	}
	c := s.conn()
	_, err := c.TombstoneStream(ctx, stream, kdb.TombstoneStreamOptions{StreamState: state})
	if err == nil {
		return nil
	}
	err = s.failed(c, err)
	if expected.IsAny() && errors.Is(err, domain.ErrConcurrency) {
		return fmt.Errorf("delete %s: %w", stream, domain.ErrStreamNotFound)
	}
	return fmt.Errorf("delete %s (expecting %s): %w", stream, expected, err)
}

// LastPosition returns the position of the newest record of herald's streams.
func (s *Store) LastPosition(ctx context.Context) (uint64, error) {
	var from kdb.AllPosition = kdb.End{}
	const page = 256
	for {
		var last uint64
		n, err := s.readPage(ctx, kdb.Backwards, from, page, func(ev *kdb.ResolvedEvent) bool {
			from = ev.OriginalEvent().Position
			if r, ok := record(ev); ok && s.ours(r.Stream) {
				last = r.Position
				return false
			}
			return true
		})
		switch {
		case err != nil:
			return 0, fmt.Errorf("read the end of $all: %w", err)
		case last != 0:
			return last, nil
		case n < page:
			return 0, nil // the start of $all: no herald record yet
		}
	}
}

// readPage reads up to count events of $all from a position in a direction, handing each to
// visit until it returns false; it returns how many it read.
func (s *Store) readPage(ctx context.Context, dir kdb.Direction, from kdb.AllPosition, count uint64, visit func(*kdb.ResolvedEvent) bool) (int, error) {
	c := s.conn()
	read, err := c.ReadAll(ctx, kdb.ReadAllOptions{Direction: dir, From: from}, count)
	if err != nil {
		return 0, s.failed(c, err)
	}
	defer read.Close()
	for n := 0; ; {
		ev, err := read.Recv()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, s.failed(c, err)
		}
		n++
		if !visit(ev) {
			return n, nil
		}
	}
}

// ours tells whether a stream is one the store follows.
func (s *Store) ours(stream string) bool {
	for _, p := range s.prefixes {
		if strings.HasPrefix(stream, p) {
			return true
		}
	}
	return false
}

// record turns an event into a herald record; ok is false for what is not a fact (a link).
func record(ev *kdb.ResolvedEvent) (domain.Record, bool) {
	e := ev.OriginalEvent()
	if e == nil {
		return domain.Record{}, false
	}
	r := domain.Record{Stream: e.StreamID, Revision: e.EventNumber, Type: e.EventType, Time: e.CreatedDate.UTC()}
	if e.Position.Commit != ^uint64(0) { // servers before 22.6 send no $all position on stream reads
		r.Position = heraldPosition(e.Position.Commit)
	}
	if r.Type != domain.StreamDeletedType && len(e.Data) > 0 {
		r.Data = e.Data
	}
	return r, true
}

// heraldPosition is herald's position of the record at a commit position (package doc).
func heraldPosition(commit uint64) uint64 { return 2*commit + 2 }

// streamState translates an expected revision.
func streamState(e domain.ExpectedRevision) kdb.StreamState {
	switch {
	case e.IsAny():
		return kdb.Any{}
	case e.IsNoStream():
		return kdb.NoStream{}
	case e.IsStreamExists():
		return kdb.StreamExists{}
	}
	r, _ := e.ExactRevision()
	return kdb.Revision(r)
}

// translate maps the client's errors to the domain's, and a call given up because its context
// ended to that context's error, which the client only carries as a gRPC status.
func translate(err error) error {
	switch status.Code(err) {
	case codes.Canceled:
		return fmt.Errorf("%w (%v)", context.Canceled, err)
	case codes.DeadlineExceeded:
		return fmt.Errorf("%w (%v)", context.DeadlineExceeded, err)
	}
	var e *kdb.Error
	if !errors.As(err, &e) {
		return err
	}
	if e.Code() == kdb.ErrorCodeUnknown && strings.Contains(err.Error(), "WrongExpectedVersion") {
		// The client does not map the server's answer to a delete or tombstone.
		return fmt.Errorf("%w (%v)", domain.ErrConcurrency, e.Err())
	}
	switch e.Code() {
	case kdb.ErrorCodeWrongExpectedVersion, kdb.ErrorCodeStreamRevisionConflict:
		return fmt.Errorf("%w (%v)", domain.ErrConcurrency, e.Err())
	case kdb.ErrorCodeStreamDeleted, kdb.ErrorCodeStreamTombstoned:
		return domain.ErrStreamDeleted
	case kdb.ErrorCodeResourceNotFound:
		return domain.ErrStreamNotFound
	}
	return err
}

// retryable tells whether a failure may pass by itself (a leader election, a restart). A
// dropped subscription carries the bare gRPC status.
func retryable(err error) bool {
	switch status.Code(err) {
	case codes.InvalidArgument, codes.PermissionDenied, codes.Unauthenticated, codes.Unimplemented:
		return false
	}
	var e *kdb.Error
	if !errors.As(err, &e) {
		return true
	}
	switch e.Code() {
	case kdb.ErrorCodeUnauthenticated, kdb.ErrorCodeAccessDenied, kdb.ErrorCodeUnsupportedFeature, kdb.ErrorCodeParsing:
		return false
	}
	return true
}

// backoff is the pause before the n-th attempt to subscribe again.
func backoff(n int) time.Duration {
	return min(100*time.Millisecond<<min(n, 6), 5*time.Second)
}
