package domain

import "testing"

// benchEvent is a typical producer event of about 500 bytes: the engine's repository failure
// with a few details.
const benchEvent = `{"id":"67946415c113488b8fff8b335272a45b","timestamp":"2018-06-28T22:36:26.512589Z",` +
	`"level":"error","type":"system.repository.list_tags_fail","message":"Failed to list tags in repository",` +
	`"resource":{"id":"docker.io/library/nginx","type":"repository","user_id":"admin"},` +
	`"source":{"servicename":"catalog","hostid":"dockerhostid-localhost","base_url":"http://localhost:8082",` +
	`"request_id":"3c0f9e5a-7a4b-4d2e-9d6a-1f0e3b2c4d5e"},` +
	`"details":{"msg":"Error encountered in skopeo operation: unauthorized: authentication required",` +
	`"exitcode":1,"registry":"docker.io","retries":[1,2,4],"tls":true}}`

func benchRecorded(b *testing.B) EventRecorded {
	b.Helper()
	e, err := DecodeLogEvent([]byte(benchEvent))
	if err != nil {
		b.Fatal(err)
	}
	return EventRecorded{Event: e}
}

func BenchmarkEncodeEventRecorded(b *testing.B) {
	f := benchRecorded(b)
	b.SetBytes(int64(len(f.Encode().Data)))
	b.ReportAllocs()
	for b.Loop() {
		f.Encode()
	}
}

func BenchmarkDecodeEventRecorded(b *testing.B) {
	data := benchRecorded(b).Encode().Data
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeEventRecorded(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeEventRecordedHeader(b *testing.B) {
	data := benchRecorded(b).Encode().Data
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeEventRecordedHeader(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeLogEvent(b *testing.B) {
	data := []byte(benchEvent)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeLogEvent(data); err != nil {
			b.Fatal(err)
		}
	}
}
