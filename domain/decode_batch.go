package domain

import (
	"bytes"
	"fmt"
)

// DecodeLogEvents reads a batch of events as producers send it: a JSON array of event
// objects, or one event object per line (NDJSON; blank lines are skipped). Each event is read
// as DecodeLogEvent reads one. The field errors of all events are collected, each under its
// event's index ("events[3].level"), up to maxFieldErrors, so a producer can fix a batch at
// once. Malformed JSON is reported with the index of the event it is in; in NDJSON also with
// the line, and the lines after it are still read. A batch of more than MaxEventsPerBatch
// events is refused without reading the rest.
func DecodeLogEvents(data []byte) ([]LogEvent, error) {
	r := jsonReader{data: data}
	switch r.peek() {
	case 0:
		if r.atEnd() {
			return nil, fieldError("$", "empty input; want a JSON array of events or one event object per line")
		}
	case '[':
		return decodeEventArray(data)
	}
	return decodeEventLines(data)
}

// batchErrors collects the errors of a batch, each under the index of its event.
type batchErrors struct {
	ValidationError
}

// newBatchErrors reports as "invalid event: ...".
func newBatchErrors() batchErrors {
	return batchErrors{ValidationError{Subject: EventSubject}}
}

// addEvent records the errors of event i and reports whether there is room for more.
func (b *batchErrors) addEvent(i int, v *ValidationError) bool {
	if v == nil || len(v.Fields) == 0 {
		return true
	}
	b.Fields = append(b.Fields, v.Prefixed(fmt.Sprintf("events[%d]", i)).Fields...)
	if len(b.Fields) < maxFieldErrors {
		return true
	}
	b.Fields = append(b.Fields[:maxFieldErrors], FieldError{
		Field: "events", Message: fmt.Sprintf("has too many errors; only the first %d are listed", maxFieldErrors),
	})
	return false
}

func (b *batchErrors) tooManyEvents() {
	b.add("events", "holds more than %d events, the limit per batch", MaxEventsPerBatch)
}

func decodeEventArray(data []byte) ([]LogEvent, error) {
	d := eventDecoder{r: jsonReader{data: data}}
	batch := newBatchErrors()
	var events []LogEvent
	d.r.peek()
	more, err := d.r.openArray()
	i := 0
	for ; more && err == nil; i++ {
		if i == MaxEventsPerBatch {
			batch.tooManyEvents()
			return nil, &batch.ValidationError
		}
		d.errs = nil
		var e LogEvent
		if e, err = d.event(); err != nil {
			break
		}
		events = append(events, e)
		if !batch.addEvent(i, d.errs) {
			return nil, &batch.ValidationError
		}
		if more, err = d.r.nextElement(); err != nil {
			break
		}
	}
	if err != nil {
		syntax := asSyntaxError(err)
		batch.addEvent(i, fieldError("$", "malformed JSON at byte %d: %s", syntax.Offset, syntax.msg))
		return nil, &batch.ValidationError
	}
	if d.r.skipSpace(); !d.r.atEnd() {
		batch.add("$", "unexpected data after the JSON array")
	}
	if len(batch.Fields) > 0 {
		return nil, &batch.ValidationError
	}
	return events, nil
}

func decodeEventLines(data []byte) ([]LogEvent, error) {
	batch := newBatchErrors()
	var events []LogEvent
	i := 0
	for line, rest := 1, data; len(rest) > 0; line++ {
		var text []byte
		text, rest, _ = bytes.Cut(rest, []byte{'\n'})
		r := jsonReader{data: text}
		if r.skipSpace(); r.atEnd() {
			continue
		}
		if i == MaxEventsPerBatch {
			batch.tooManyEvents()
			return nil, &batch.ValidationError
		}
		e, v, syntax := decodeOne(text, 0)
		if syntax != nil {
			v = fieldError("$", "malformed JSON on line %d at byte %d: %s", line, syntax.Offset, syntax.msg)
		}
		events = append(events, e)
		if !batch.addEvent(i, v) {
			return nil, &batch.ValidationError
		}
		i++
	}
	if len(batch.Fields) > 0 {
		return nil, &batch.ValidationError
	}
	if len(events) == 0 {
		return nil, fieldError("$", "empty input; want a JSON array of events or one event object per line")
	}
	return events, nil
}
