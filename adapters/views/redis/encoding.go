package redis

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"herald/domain"
	"herald/projections"
)

// Every index is a sorted set whose scores are all zero and whose members are sort keys:
// fixed-width, big-endian, so that Redis's byte-wise order of members (ZRANGE BYLEX) is the
// order of (timestamp, position). A float score could hold neither a nanosecond timestamp
// nor a position beside it; lexicographic members hold both exactly, and make cursors exact.
//
//	sort key = seconds (int64, sign bit flipped) | nanoseconds (uint32) | position (uint64)
//
// The position identifies the entry: it is the global position of its EventRecorded fact.
const (
	stampLen   = 12 // seconds and nanoseconds
	sortKeyLen = stampLen + 8
	maxField   = math.MaxUint16 // the entry encoding gives each string a 16-bit length
)

// stampKey encodes a timestamp; every sort key of that instant starts with it.
func stampKey(t time.Time) []byte {
	b := make([]byte, stampLen, sortKeyLen)
	binary.BigEndian.PutUint64(b, uint64(t.Unix())^(1<<63))
	binary.BigEndian.PutUint32(b[8:], uint32(t.Nanosecond()))
	return b
}

// sortKey encodes the place of an entry (or a cursor) in the order of the indexes.
func sortKey(t time.Time, position uint64) []byte {
	return binary.BigEndian.AppendUint64(stampKey(t), position)
}

// positionKey is the last part of a sort key: the key of the entry in the entries hash.
func positionKey(position uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, position)
}

// decodeSortKey reads a sort key.
func decodeSortKey(k []byte) (time.Time, uint64, error) {
	if len(k) != sortKeyLen {
		return time.Time{}, 0, fmt.Errorf("sort key of %d bytes, want %d", len(k), sortKeyLen)
	}
	sec := int64(binary.BigEndian.Uint64(k) ^ (1 << 63))
	nsec := int64(binary.BigEndian.Uint32(k[8:]))
	return time.Unix(sec, nsec).UTC(), binary.BigEndian.Uint64(k[stampLen:]), nil
}

// An entry is stored as one string that the Lua scripts read with struct.unpack, using the
// format entryFormat: the sort key, the level, then each string with a 16-bit length.
// Keep the two in step with the scripts (lua/common.lua).
//
//	sort key (20) | level (1) | id | type | account | resource id | resource type | service | host
const entryFormat = ">c20BHc0Hc0Hc0Hc0Hc0Hc0Hc0"

// encodeEntry appends the stored form of e to b.
func encodeEntry(b []byte, e *projections.EventEntry) ([]byte, error) {
	fields := [...]string{e.ID, e.Type, e.Account, e.ResourceID, e.ResourceType, e.Service, e.Host}
	for _, f := range fields {
		if len(f) > maxField {
			return b, fmt.Errorf("entry %.64s: a field of %d bytes exceeds %d", e.ID, len(f), maxField)
		}
	}
	b = append(b, sortKey(e.Timestamp, e.Position)...)
	b = append(b, byte(e.Level))
	for _, f := range fields {
		b = binary.BigEndian.AppendUint16(b, uint16(len(f)))
		b = append(b, f...)
	}
	return b, nil
}

// decodeEntry reads the stored form of an entry.
func decodeEntry(b []byte) (projections.EventEntry, error) {
	var e projections.EventEntry
	if len(b) < sortKeyLen+1 {
		return e, fmt.Errorf("stored entry of %d bytes is truncated", len(b))
	}
	ts, pos, err := decodeSortKey(b[:sortKeyLen])
	if err != nil {
		return e, err
	}
	e.Timestamp, e.Position = ts, pos
	e.Level = domain.Level(b[sortKeyLen])
	rest := b[sortKeyLen+1:]
	for _, f := range [...]*string{&e.ID, &e.Type, &e.Account, &e.ResourceID, &e.ResourceType, &e.Service, &e.Host} {
		if len(rest) < 2 {
			return e, fmt.Errorf("stored entry is truncated")
		}
		n := int(binary.BigEndian.Uint16(rest))
		if len(rest) < 2+n {
			return e, fmt.Errorf("stored entry is truncated")
		}
		*f = string(rest[2 : 2+n])
		rest = rest[2+n:]
	}
	if len(rest) != 0 {
		return e, fmt.Errorf("stored entry has %d bytes too many", len(rest))
	}
	return e, nil
}
