package embedded

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/bloom"
	"github.com/cockroachdb/pebble/vfs"
)

// Options tune the embedded store. The zero value is usable: setDefaults fills the gaps.
type Options struct {
	// Logger receives the store's and pebble's messages (pebble's at debug level).
	Logger *slog.Logger
	// MaxGroupFacts caps how many facts one group commit (one batch, one fsync) holds.
	MaxGroupFacts int
	// MaxGroupBytes caps the encoded size of one group commit.
	MaxGroupBytes int
	// HeadCacheSize is how many heads of recently appended streams the writer remembers, so
	// that appends to busy streams skip a pebble lookup. New streams skip it through an
	// in-memory filter of every stream name (about 1.5 bytes a stream); other heads are read
	// through pebble's bloom filters.
	HeadCacheSize int
	// ReadBatch is how many records SubscribeAll reads at a time.
	ReadBatch int
	// TailRecords is how many of the newest records are kept as written, for followers
	// reading the log live (tail.go); 0 for the default, negative for none.
	TailRecords int
	// CacheBytes bounds pebble's memory: its block cache, against which pebble also accounts
	// its memtables, so it must be well above twice MemTableBytes.
	CacheBytes int64
	// MemTableBytes is the size of one pebble memtable.
	MemTableBytes int

	fs vfs.FS // tests put faults on the disk; nil for the real one
}

func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxGroupFacts <= 0 {
		o.MaxGroupFacts = 16384
	}
	if o.MaxGroupBytes <= 0 {
		o.MaxGroupBytes = 8 << 20
	}
	if o.HeadCacheSize <= 0 {
		o.HeadCacheSize = 16384
	}
	if o.ReadBatch <= 0 {
		o.ReadBatch = 1000
	}
	if o.TailRecords == 0 {
		o.TailRecords = 16384
	}
	if o.MemTableBytes <= 0 {
		o.MemTableBytes = 32 << 20
	}
	if o.CacheBytes <= 0 {
		o.CacheBytes = 3 * int64(o.MemTableBytes)
	}
}

// Validate reports options that cannot work together.
func (o *Options) Validate() error {
	if o.CacheBytes <= 2*int64(o.MemTableBytes) {
		return fmt.Errorf("cache of %d bytes cannot hold two memtables of %d bytes: %w", o.CacheBytes, o.MemTableBytes, errBadOptions)
	}
	return nil
}

var errBadOptions = errors.New("invalid options")

// pebbleOptions builds pebble's options; the caller must Unref the returned cache once the
// database is open.
func (o *Options) pebbleOptions(h *health) (*pebble.Options, *pebble.Cache) {
	cache := pebble.NewCache(o.CacheBytes)
	logger := pebbleLogger{log: o.Logger}
	po := &pebble.Options{
		Cache:                       cache,
		MemTableSize:                uint64(o.MemTableBytes),
		MemTableStopWritesThreshold: 2,
		L0CompactionThreshold:       8,
		L0StopWritesThreshold:       32,
		LBaseMaxBytes:               256 << 20,
		// Compactions are CPU work: the cores, not herald serve's extra P (cmd/herald/procs.go),
		// bound them: two at once on two cores slowed a rebuild by ~3%.
		MaxConcurrentCompactions: func() int { return max(1, min(runtime.NumCPU(), runtime.GOMAXPROCS(0))-1) },
		FormatMajorVersion:       pebble.FormatNewest,
		Logger:                   logger,
		EventListener:            h.listener(),
		FS:                       o.fs,
	}
	po.Levels = make([]pebble.LevelOptions, 7)
	for i := range po.Levels {
		l := &po.Levels[i]
		l.BlockSize = 32 << 10
		l.IndexBlockSize = 256 << 10
		// Appends look up the heads of streams that mostly do not exist yet; bloom filters
		// answer those lookups without reading data blocks.
		l.FilterPolicy = bloom.FilterPolicy(10)
		l.FilterType = pebble.TableFilter
		if i > 0 {
			l.TargetFileSize = po.Levels[i-1].TargetFileSize * 2
		} else {
			l.TargetFileSize = 8 << 20
			// Flushed tables are soon compacted away: compressing them takes CPU that the
			// writer needs on a small machine, for little.
			l.Compression = pebble.NoCompression
		}
	}
	return po, cache
}

// pebbleLogger routes pebble's messages to slog at debug level.
type pebbleLogger struct{ log *slog.Logger }

func (l pebbleLogger) Infof(format string, args ...any) {
	l.log.Debug("pebble: " + fmt.Sprintf(format, args...))
}

// Fatalf must not return: pebble calls it when its commit pipeline is broken, and carrying on
// could acknowledge writes that are not on disk.
func (l pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.log.Error("pebble fatal: " + msg)
	panic("pebble: " + msg)
}
