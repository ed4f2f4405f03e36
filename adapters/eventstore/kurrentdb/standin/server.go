package standin

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/kurrent-io/KurrentDB-Client-Go/protos/kurrentdb/protocols/v1/serverfeatures"
	"github.com/kurrent-io/KurrentDB-Client-Go/protos/kurrentdb/protocols/v1/shared"
	api "github.com/kurrent-io/KurrentDB-Client-Go/protos/kurrentdb/protocols/v1/streams"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// Version is what the stand-in reports as its server version: a KurrentDB version the client
// parses (major.minor.patch, anything after a hyphen ignored), saying what it is.
const Version = "25.1.0-herald-standin"

// maxMessageSize matches the client's receive limit (17 MiB) so that large reads fit.
const maxMessageSize = 17 << 20

// Options tune a stand-in.
type Options struct {
	// StatsEvery is how many client writes (appends that write events, deletes, tombstones)
	// pass between the $statsCollected events the stand-in writes to $all by itself; 0 means
	// 10, a negative value never.
	StatsEvery int
}

// Server is a running stand-in.
type Server struct {
	store *store
	grpc  *grpc.Server
	lis   net.Listener
	subs  subscriptions
	once  sync.Once
}

// Start serves a new, empty stand-in on a loopback port.
func Start() (*Server, error) { return StartWith(Options{}) }

// StartWith serves a new, empty stand-in with options on a loopback port.
func StartWith(opts Options) (*Server, error) {
	if opts.StatsEvery == 0 {
		opts.StatsEvery = 10
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("kurrentdb stand-in: listen on loopback: %w", err)
	}
	s := &Server{store: newStore(opts.StatsEvery), lis: lis}
	s.subs.active = map[*subscription]struct{}{}
	s.grpc = grpc.NewServer(
		grpc.ChainUnaryInterceptor(unaryTrailers),
		grpc.ChainStreamInterceptor(streamTrailers),
		grpc.MaxRecvMsgSize(maxMessageSize),
		// The client pings every 10 s even when idle; the default policy (5 min) would answer
		// with GOAWAY "too_many_pings" and break long tests.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: time.Second, PermitWithoutStream: true}),
	)
	api.RegisterStreamsServer(s.grpc, &streamsService{srv: s})
	serverfeatures.RegisterServerFeaturesServer(s.grpc, featuresService{})
	go func() { _ = s.grpc.Serve(lis) }()
	return s, nil
}

// Addr is the host:port the stand-in listens on.
func (s *Server) Addr() string { return s.lis.Addr().String() }

// URL is the connection string for kurrentdb.ParseConnectionString.
func (s *Server) URL() string { return "kurrentdb://" + s.Addr() + "?tls=false" }

// DropSubscriptions aborts every active subscription with gRPC Unavailable, as a node going
// away would, and says how many it dropped.
func (s *Server) DropSubscriptions() int { return s.subs.dropAll() }

// Subscriptions counts the active subscriptions.
func (s *Server) Subscriptions() int { return s.subs.count() }

// WriteStatsEvent appends a $statsCollected event to $stats-127.0.0.1:2113 and returns its
// position, for tests that need a system event at a chosen point of $all.
func (s *Server) WriteStatsEvent() uint64 { return s.store.writeStats() }

// Close stops the stand-in and ends every call in flight. It is safe to call more than once.
func (s *Server) Close() {
	s.once.Do(func() {
		s.subs.dropAll()
		s.grpc.Stop()
	})
}

// featuresService answers the one call the client makes on connecting.
type featuresService struct {
	serverfeatures.UnimplementedServerFeaturesServer
}

// GetSupportedMethods lists what the stand-in implements, named as the real server names
// them: lower-case gRPC service and method names. BatchAppend is left out on purpose, so the
// client keeps to Append.
func (featuresService) GetSupportedMethods(context.Context, *shared.Empty) (*serverfeatures.SupportedMethods, error) {
	streams := strings.ToLower(api.Streams_ServiceDesc.ServiceName)
	features := strings.ToLower(serverfeatures.ServerFeatures_ServiceDesc.ServiceName)
	return &serverfeatures.SupportedMethods{
		EventStoreServerVersion: Version,
		Methods: []*serverfeatures.SupportedMethod{
			{ServiceName: streams, MethodName: "read", Features: []string{"position", "events"}},
			{ServiceName: streams, MethodName: "append"},
			{ServiceName: streams, MethodName: "delete"},
			{ServiceName: streams, MethodName: "tombstone"},
			{ServiceName: features, MethodName: "getsupportedmethods"},
		},
	}, nil
}

// subscription is one active subscription; dropped is closed to abort it.
type subscription struct {
	dropped chan struct{}
}

// subscriptions is the set of active subscriptions.
type subscriptions struct {
	mu     sync.Mutex
	active map[*subscription]struct{}
}

func (r *subscriptions) add() *subscription {
	sub := &subscription{dropped: make(chan struct{})}
	r.mu.Lock()
	r.active[sub] = struct{}{}
	r.mu.Unlock()
	return sub
}

func (r *subscriptions) remove(sub *subscription) {
	r.mu.Lock()
	delete(r.active, sub)
	r.mu.Unlock()
}

// dropAll aborts and forgets every active subscription at once, so that Subscriptions says 0
// as soon as it returns.
func (r *subscriptions) dropAll() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.active)
	for sub := range r.active {
		close(sub.dropped)
		delete(r.active, sub)
	}
	return n
}

func (r *subscriptions) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.active)
}
