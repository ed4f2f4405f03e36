package standin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/kurrent-io/KurrentDB-Client-Go/protos/kurrentdb/protocols/v1/shared"
	api "github.com/kurrent-io/KurrentDB-Client-Go/protos/kurrentdb/protocols/v1/streams"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// streamsService implements the Streams service: Append, Delete, Tombstone and Read (reads
// and subscriptions). BatchAppend stays unimplemented.
type streamsService struct {
	api.UnimplementedStreamsServer
	srv *Server
}

// Append reads the whole request before answering, as the real server does: answering early
// would make the client's next Send fail before it has the trailers that say why.
func (h *streamsService) Append(stream grpc.ClientStreamingServer[api.AppendReq, api.AppendResp]) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	opts := first.GetOptions()
	if opts == nil {
		return status.Error(codes.InvalidArgument, "the first append message must carry the options")
	}
	name := string(opts.GetStreamIdentifier().GetStreamName())
	exp := expectationOf(opts.GetAny() != nil, opts.GetNoStream() != nil, opts.GetStreamExists() != nil, opts.GetRevision())
	events, err := receiveProposals(stream)
	if err != nil {
		return err
	}
	res, err := h.srv.store.append(name, exp, events)
	var wrong *wrongExpectedError
	if errors.As(err, &wrong) {
		return stream.SendAndClose(wrongExpectedResp(wrong))
	}
	if err != nil {
		return storeError("Append", err)
	}
	return stream.SendAndClose(appendSuccess(res))
}

// receiveProposals reads the proposed events up to the end of the request, failing as soon as
// they exceed the append size limit, as the real server does.
func receiveProposals(stream grpc.ClientStreamingServer[api.AppendReq, api.AppendResp]) ([]proposal, error) {
	var events []proposal
	size := 0
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return events, nil
		}
		if err != nil {
			return nil, err
		}
		m := msg.GetProposedMessage()
		if m == nil {
			return nil, status.Error(codes.InvalidArgument, "append messages after the first must be proposed events")
		}
		p, err := proposalOf(m)
		if err != nil {
			return nil, err
		}
		if size += len(p.data) + len(p.metadata) + len(p.eventType); size > maxAppendSize {
			return nil, maxAppendSizeStatus()
		}
		events = append(events, p)
	}
}

func appendSuccess(res writeResult) *api.AppendResp {
	ok := &api.AppendResp_Success{}
	if res.revision < 0 {
		ok.CurrentRevisionOption = &api.AppendResp_Success_NoStream{NoStream: &shared.Empty{}}
	} else {
		ok.CurrentRevisionOption = &api.AppendResp_Success_CurrentRevision{CurrentRevision: uint64(res.revision)}
	}
	if res.hasPosition {
		ok.PositionOption = &api.AppendResp_Success_Position{Position: &api.AppendResp_Position{CommitPosition: res.position, PreparePosition: res.position}}
	} else {
		ok.PositionOption = &api.AppendResp_Success_NoPosition{NoPosition: &shared.Empty{}}
	}
	return &api.AppendResp{Result: &api.AppendResp_Success_{Success: ok}}
}

// wrongExpectedResp fills both the current fields and the 20.6.0 ones, as the real server does.
func wrongExpectedResp(e *wrongExpectedError) *api.AppendResp {
	w := &api.AppendResp_WrongExpectedVersion{}
	switch e.expected {
	case expectAny:
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: &shared.Empty{}}
		w.ExpectedRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_Any_20_6_0{Any_20_6_0: &shared.Empty{}}
	case expectStreamExists:
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: &shared.Empty{}}
		w.ExpectedRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_StreamExists_20_6_0{StreamExists_20_6_0: &shared.Empty{}}
	case expectNoStream:
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &shared.Empty{}}
		w.ExpectedRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_ExpectedRevision_20_6_0{ExpectedRevision_20_6_0: math.MaxUint64}
	default:
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: uint64(e.expected)}
		w.ExpectedRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_ExpectedRevision_20_6_0{ExpectedRevision_20_6_0: uint64(e.expected)}
	}
	if e.current < 0 {
		w.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
		w.CurrentRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_NoStream_20_6_0{NoStream_20_6_0: &shared.Empty{}}
	} else {
		w.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: uint64(e.current)}
		w.CurrentRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_CurrentRevision_20_6_0{CurrentRevision_20_6_0: uint64(e.current)}
	}
	return &api.AppendResp{Result: &api.AppendResp_WrongExpectedVersion_{WrongExpectedVersion: w}}
}

// Delete soft-deletes a stream.
func (h *streamsService) Delete(_ context.Context, req *api.DeleteReq) (*api.DeleteResp, error) {
	o := req.GetOptions()
	exp := expectationOf(o.GetAny() != nil, o.GetNoStream() != nil, o.GetStreamExists() != nil, o.GetRevision())
	res, err := h.srv.store.softDelete(string(o.GetStreamIdentifier().GetStreamName()), exp)
	if err != nil {
		return nil, storeError("Delete", err)
	}
	return &api.DeleteResp{PositionOption: &api.DeleteResp_Position_{Position: &api.DeleteResp_Position{
		CommitPosition: res.position, PreparePosition: res.position,
	}}}, nil
}

// Tombstone hard-deletes a stream. The real server reports a wrong expected version here as
// "Delete failed", whichever of the two was called.
func (h *streamsService) Tombstone(_ context.Context, req *api.TombstoneReq) (*api.TombstoneResp, error) {
	o := req.GetOptions()
	exp := expectationOf(o.GetAny() != nil, o.GetNoStream() != nil, o.GetStreamExists() != nil, o.GetRevision())
	res, err := h.srv.store.tombstone(string(o.GetStreamIdentifier().GetStreamName()), exp)
	if err != nil {
		return nil, storeError("Delete", err)
	}
	return &api.TombstoneResp{PositionOption: &api.TombstoneResp_Position_{Position: &api.TombstoneResp_Position{
		CommitPosition: res.position, PreparePosition: res.position,
	}}}, nil
}

// Read serves reads and subscriptions, taking the same combinations of options as the real
// server and refusing the others.
func (h *streamsService) Read(req *api.ReadReq, stream grpc.ServerStreamingServer[api.ReadResp]) error {
	opts := req.GetOptions()
	if opts.GetUuidOption() == nil {
		return status.Error(codes.InvalidArgument, "'uuidOption' is a required argument")
	}
	filter, err := parseFilter(opts)
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	forwards := opts.GetReadDirection() == api.ReadReq_Options_Forwards
	_, subscribe := opts.GetCountOption().(*api.ReadReq_Options_Subscription)
	_, isCount := opts.GetCountOption().(*api.ReadReq_Options_Count)
	switch {
	case opts.GetStream() != nil && isCount && filter == nil:
		return h.readStream(opts, forwards, stream)
	case opts.GetAll() != nil && isCount:
		return h.readAll(opts, forwards, filter, stream)
	case opts.GetStream() != nil && subscribe && forwards && filter == nil:
		return h.subscribeToStream(opts, stream)
	case opts.GetAll() != nil && subscribe && forwards:
		return h.subscribeToAll(opts, filter, stream)
	}
	return status.Error(codes.InvalidArgument, fmt.Sprintf("The combination of (%T, %T, %v, filter: %v) is invalid.",
		opts.GetStreamOption(), opts.GetCountOption(), opts.GetReadDirection(), filter != nil))
}

// readStream answers a missing stream with the StreamNotFound message, which the client turns
// into ErrorCodeResourceNotFound, and a tombstoned one with the stream-deleted error.
func (h *streamsService) readStream(opts *api.ReadReq_Options, forwards bool, stream grpc.ServerStreamingServer[api.ReadResp]) error {
	so := opts.GetStream()
	from := so.GetRevision()
	switch {
	case so.GetStart() != nil:
		from = 0
	case so.GetEnd() != nil:
		from = math.MaxUint64
	}
	name := string(so.GetStreamIdentifier().GetStreamName())
	records, err := h.srv.store.readStream(name, from, forwards, opts.GetCount())
	var missing *noStreamError
	if errors.As(err, &missing) {
		return stream.Send(&api.ReadResp{Content: &api.ReadResp_StreamNotFound_{StreamNotFound: &api.ReadResp_StreamNotFound{
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(name)},
		}}})
	}
	if err != nil {
		return storeError("Read", err)
	}
	return sendRecords(stream, records, uuidAsString(opts), false)
}

func (h *streamsService) readAll(opts *api.ReadReq_Options, forwards bool, filter *filterOptions, stream grpc.ServerStreamingServer[api.ReadResp]) error {
	var f *eventFilter
	if filter != nil {
		f = filter.filter
	}
	records, err := h.srv.store.readAll(allFromOf(opts.GetAll()), forwards, opts.GetCount(), f)
	var invalid *invalidPositionError
	if errors.As(err, &invalid) {
		return readAllInvalidPositionStatus()
	}
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	return sendRecords(stream, records, uuidAsString(opts), true)
}

func sendRecords(stream grpc.ServerStreamingServer[api.ReadResp], records []*record, uuidAsString, withPosition bool) error {
	for _, r := range records {
		if err := stream.Send(eventResp(r, uuidAsString, withPosition)); err != nil {
			return err
		}
	}
	return nil
}

func allFromOf(o *api.ReadReq_Options_AllOptions) allFrom {
	switch {
	case o.GetStart() != nil:
		return allFrom{start: true}
	case o.GetEnd() != nil:
		return allFrom{end: true}
	}
	p := o.GetPosition()
	if p.GetCommitPosition() == math.MaxUint64 && p.GetPreparePosition() == math.MaxUint64 {
		return allFrom{end: true} // the real server's Position.End
	}
	// Commit and prepare positions are equal for every record here; a pair that differs
	// cannot name one.
	return allFrom{pos: p.GetCommitPosition(), unequal: p.GetCommitPosition() != p.GetPreparePosition()}
}

func uuidAsString(opts *api.ReadReq_Options) bool { return opts.GetUuidOption().GetString_() != nil }
