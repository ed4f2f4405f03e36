package domain

import "bytes"

// The EventRecorded fact is written and read for every event on ingest and on every rebuild,
// so it has its own codec instead of encoding/json (jsonread.go, jsonwrite.go). The wire form
// is what json.Marshal made of
//
//	{"v":1,"id":…,"timestamp":…,"level":…,"type":…,"message":…,
//	 "resource":{"id":…,"type":…,"user_id":…},
//	 "source":{"servicename":…,"hostid":…,"base_url":… (if set),"request_id":… (if set)},
//	 "details":… (if set)}
//
// and logs written before the codec existed must keep reading the same.

// Encode returns the fact ready to append. Details must be valid JSON, which DecodeLogEvent
// guarantees; they are written compacted with HTML-sensitive characters escaped, as
// json.Marshal wrote them.
func (f EventRecorded) Encode() Fact {
	e := f.Event
	size := 256 + len(e.ID) + len(e.Type) + len(e.Message) + len(e.Resource.ID) + len(e.Resource.Type) +
		len(e.Resource.UserID) + len(e.Source.ServiceName) + len(e.Source.HostID) + len(e.Source.BaseURL) +
		len(e.Source.RequestID) + len(e.Details)
	b := make([]byte, 0, size)
	b = append(b, `{"v":1,"id":`...)
	b = appendString(b, e.ID)
	b = append(b, `,"timestamp":"`...)
	b = appendTimestamp(b, e.Timestamp)
	b = append(b, `","level":`...)
	b = appendString(b, e.Level.String())
	b = append(b, `,"type":`...)
	b = appendString(b, e.Type)
	b = append(b, `,"message":`...)
	b = appendString(b, e.Message)
	b = append(b, `,"resource":{"id":`...)
	b = appendString(b, e.Resource.ID)
	b = append(b, `,"type":`...)
	b = appendString(b, e.Resource.Type)
	b = append(b, `,"user_id":`...)
	b = appendString(b, e.Resource.UserID)
	b = append(b, `},"source":{"servicename":`...)
	b = appendString(b, e.Source.ServiceName)
	b = append(b, `,"hostid":`...)
	b = appendString(b, e.Source.HostID)
	if e.Source.BaseURL != "" {
		b = append(b, `,"base_url":`...)
		b = appendString(b, e.Source.BaseURL)
	}
	if e.Source.RequestID != "" {
		b = append(b, `,"request_id":`...)
		b = appendString(b, e.Source.RequestID)
	}
	b = append(b, '}')
	if len(e.Details) > 0 {
		b = append(b, `,"details":`...)
		b = appendRawJSON(b, e.Details)
	}
	b = append(b, '}')
	return Fact{Type: EventRecordedType, Data: b}
}

// DecodeEventRecorded reads an EventRecorded fact.
func DecodeEventRecorded(data []byte) (EventRecorded, error) {
	e, err := decodeEventRecorded(data, true)
	return EventRecorded{Event: e}, err
}

// DecodeEventRecordedHeader reads an EventRecorded fact without its message and details,
// which a view that only indexes events does not need; stepping over them unread makes
// rebuilds faster.
func DecodeEventRecordedHeader(data []byte) (LogEvent, error) {
	return decodeEventRecorded(data, false)
}

// decodeEventRecorded reads a fact, at first as laid out by Encode, which is how practically
// every fact is laid out, and if that fails with the general reader, which also finds what
// is wrong with the fact.
func decodeEventRecorded(data []byte, full bool) (LogEvent, error) {
	f := factReader{r: jsonReader{data: data}}
	var e LogEvent
	if !f.readAsEncoded(&e, full) {
		f = factReader{r: jsonReader{data: data}}
		e = LogEvent{}
		if err := f.readAnyLayout(&e, full); err != nil {
			return LogEvent{}, err
		}
	}
	all := f.strs.all()
	e.ID, e.Type, e.Message = f.strs.get(all, factID), f.strs.get(all, factType), f.strs.get(all, factMessage)
	e.Resource = Resource{ID: f.strs.get(all, factResource), Type: f.strs.get(all, factResource+1), UserID: f.strs.get(all, factResource+2)}
	e.Source = Source{
		ServiceName: f.strs.get(all, factSource), HostID: f.strs.get(all, factSource+1),
		BaseURL: f.strs.get(all, factSource+2), RequestID: f.strs.get(all, factSource+3),
	}
	return e, nil
}

// readAsEncoded reads data if it is laid out exactly as Encode writes it, sparing the key
// matching and the checks between tokens of the general reader. It gives up, returning
// false, at the first difference, anything unusual included (a timestamp in another form,
// a null, white space); the general reader then starts over.
func (f *factReader) readAsEncoded(e *LogEvent, full bool) bool {
	r := &f.r
	if !f.literal(`{"v":1,"id":`) || !f.stringAt(factID) || !f.literal(`,"timestamp":`) || !f.quoteNext() {
		return false
	}
	r.depth = 1
	b, err := r.stringBytes()
	if err != nil {
		return false
	}
	var ok bool
	if e.Timestamp, ok = parseTimestampLayout(b); !ok || !f.literal(`,"level":`) || !f.quoteNext() {
		return false
	}
	if b, err = r.stringBytes(); err != nil {
		return false
	}
	e.Level, _ = ParseLevel(string(b))
	if !f.literal(`,"type":`) || !f.stringAt(factType) || !f.literal(`,"message":`) {
		return false
	}
	if full {
		ok = f.stringAt(factMessage)
	} else {
		ok = f.quoteNext() && r.skipString() == nil
	}
	if !ok || !f.literal(`,"resource":{"id":`) || !f.stringAt(factResource) || !f.literal(`,"type":`) ||
		!f.stringAt(factResource+1) || !f.literal(`,"user_id":`) || !f.stringAt(factResource+2) ||
		!f.literal(`},"source":{"servicename":`) || !f.stringAt(factSource) || !f.literal(`,"hostid":`) ||
		!f.stringAt(factSource+1) {
		return false
	}
	if f.literal(`,"base_url":`) && !f.stringAt(factSource+2) {
		return false
	}
	if f.literal(`,"request_id":`) && !f.stringAt(factSource+3) {
		return false
	}
	if !f.literal("}") {
		return false
	}
	if f.literal(`,"details":`) {
		raw, _, err := r.rawValue()
		if err != nil {
			return false
		}
		if full {
			e.Details = bytes.Clone(raw) // the caller may reuse data
		}
	}
	return f.literal("}") && r.atEnd()
}

// literal steps over lit if the input continues with it.
func (f *factReader) literal(lit string) bool {
	r := &f.r
	if len(r.data)-r.pos < len(lit) || string(r.data[r.pos:r.pos+len(lit)]) != lit {
		return false
	}
	r.pos += len(lit)
	return true
}

func (f *factReader) quoteNext() bool { return f.r.pos < len(f.r.data) && f.r.data[f.r.pos] == '"' }

// stringAt reads a string into slot, if a string comes next.
func (f *factReader) stringAt(slot int) bool {
	if !f.quoteNext() {
		return false
	}
	b, err := f.r.stringBytes()
	if err != nil {
		return false
	}
	f.strs.set(slot, b)
	return true
}
