package embedded

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"herald/domain"
)

// Key layout. Every key starts with a one-byte kind and a slash:
//
//	g/<pos u64 BE>               -> record (the global log, in position order)
//	s/<stream>\x00<rev u64 BE>   -> pos uvarint (stream index, revisions 1 and up only)
//	h/<stream>                   -> head (last revision, first and latest positions, flags)
//	p/<stream>                   -> empty: the stream is deleted, its facts not yet purged
//	m/last                       -> last position ever assigned, u64 BE
//	m/format                     -> the layout's version, u64 BE (storeFormat)
//	m/id                         -> the store's identity: 16 random bytes, set at creation
//
// Revision 0 of a stream is found through its head (firstPos), so a stream with one fact,
// the common case (logevent-<id>), costs two keys besides its record instead of three.
var (
	globalPrefix  = []byte("g/")
	indexPrefix   = []byte("s/")
	headPrefix    = []byte("h/")
	purgePrefix   = []byte("p/")
	lastPosKey    = []byte("m/last")
	formatKey     = []byte("m/format")
	identityKey   = []byte("m/id")
	errCorrupt    = errors.New("corrupt value")
	errBadVersion = errors.New("unknown encoding version")
)

// deletedRevision is the revision of a StreamDeletedType record, as KurrentDB numbers its
// tombstones.
const deletedRevision = math.MaxInt64

// storeFormat is the version of the key layout above. A store written by a herald with a
// higher format is refused: this binary could misread it or write what the newer one cannot
// read.
const storeFormat = 1

const (
	recordVersion = 1
	headVersion   = 1
	headDeleted   = 1 << 0
)

func globalKey(pos uint64) []byte {
	return binary.BigEndian.AppendUint64(append(make([]byte, 0, 10), globalPrefix...), pos)
}

func indexKey(stream string, rev uint64) []byte {
	k := make([]byte, 0, len(indexPrefix)+len(stream)+9)
	k = append(append(append(k, indexPrefix...), stream...), 0)
	return binary.BigEndian.AppendUint64(k, rev)
}

// indexBounds returns the key range holding every index entry of a stream.
func indexBounds(stream string) (lower, upper []byte) {
	lower = append(append(append([]byte(nil), indexPrefix...), stream...), 0)
	upper = append(append(append([]byte(nil), indexPrefix...), stream...), 1)
	return lower, upper
}

func purgeKey(stream string) []byte {
	return append(append(make([]byte, 0, len(purgePrefix)+len(stream)), purgePrefix...), stream...)
}

// prefixEnd returns the first key after every key starting with the two-byte prefix p.
func prefixEnd(p []byte) []byte { return []byte{p[0], p[1] + 1} }

func headKey(stream string) []byte {
	return append(append(make([]byte, 0, len(headPrefix)+len(stream)), headPrefix...), stream...)
}

// head is what the store knows of a stream without reading its facts.
type head struct {
	lastRev  uint64 // revision of the newest fact
	firstPos uint64 // position of revision 0
	lastPos  uint64 // position of the newest change: the newest fact or the deletion record
	deleted  bool
}

func appendHead(b []byte, h head) []byte {
	var flags byte
	if h.deleted {
		flags |= headDeleted
	}
	b = append(b, headVersion, flags)
	b = binary.AppendUvarint(b, h.lastRev)
	b = binary.AppendUvarint(b, h.firstPos)
	return binary.AppendUvarint(b, h.lastPos)
}

func decodeHead(b []byte) (head, error) {
	if len(b) < 2 {
		return head{}, fmt.Errorf("head: %w", errCorrupt)
	}
	if b[0] != headVersion {
		return head{}, fmt.Errorf("head version %d: %w", b[0], errBadVersion)
	}
	h := head{deleted: b[1]&headDeleted != 0}
	b = b[2:]
	for _, v := range []*uint64{&h.lastRev, &h.firstPos, &h.lastPos} {
		n, size := binary.Uvarint(b)
		if size <= 0 {
			return head{}, fmt.Errorf("head: %w", errCorrupt)
		}
		*v, b = n, b[size:]
	}
	return h, nil
}

// appendRecord encodes everything of a record but its position, which is its key:
// version, uvarint-prefixed stream, uvarint revision, uvarint-prefixed type, varint unix
// nanoseconds, then the data to the end.
func appendRecord(b []byte, stream string, rev uint64, typ string, at int64, data []byte) []byte {
	b = append(b, recordVersion)
	b = binary.AppendUvarint(b, uint64(len(stream)))
	b = append(b, stream...)
	b = binary.AppendUvarint(b, rev)
	b = binary.AppendUvarint(b, uint64(len(typ)))
	b = append(b, typ...)
	b = binary.AppendVarint(b, at)
	return append(b, data...)
}

// decodeRecord decodes a record; it copies everything it keeps, so b may be reused.
func decodeRecord(pos uint64, b []byte) (domain.Record, error) {
	if len(b) == 0 {
		return domain.Record{}, fmt.Errorf("record %d: %w", pos, errCorrupt)
	}
	if b[0] != recordVersion {
		return domain.Record{}, fmt.Errorf("record %d version %d: %w", pos, b[0], errBadVersion)
	}
	b = b[1:]
	corrupt := func() error { return fmt.Errorf("record %d: %w", pos, errCorrupt) }
	str := func() (string, bool) {
		n, size := binary.Uvarint(b)
		if size <= 0 || uint64(len(b)-size) < n {
			return "", false
		}
		s := string(b[size : size+int(n)])
		b = b[size+int(n):]
		return s, true
	}
	r := domain.Record{Position: pos}
	var ok bool
	if r.Stream, ok = str(); !ok {
		return domain.Record{}, corrupt()
	}
	rev, size := binary.Uvarint(b)
	if size <= 0 {
		return domain.Record{}, corrupt()
	}
	r.Revision, b = rev, b[size:]
	if r.Type, ok = str(); !ok {
		return domain.Record{}, corrupt()
	}
	at, size := binary.Varint(b)
	if size <= 0 {
		return domain.Record{}, corrupt()
	}
	r.Time, b = time.Unix(0, at).UTC(), b[size:]
	if len(b) > 0 {
		r.Data = append([]byte(nil), b...)
	}
	return r, nil
}
