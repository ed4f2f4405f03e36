package notify_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"herald/notify"
)

func mustNetworks(t *testing.T, list ...string) []netip.Prefix {
	t.Helper()
	p, err := notify.ParseNetworks(list)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOutboundPolicy_Check(t *testing.T) {
	t.Parallel()
	defaults := notify.OutboundPolicy{Deny: notify.DefaultDeny()}
	for _, c := range []struct {
		name   string
		policy notify.OutboundPolicy
		addr   string
		reason string // "" when the address is permitted
	}{
		{"IPv4 loopback", defaults, "127.0.0.1", "loopback"},
		{"anywhere in 127/8", defaults, "127.254.0.9", "loopback"},
		{"IPv6 loopback", defaults, "::1", "loopback"},
		{"unspecified IPv4 reaches this host", defaults, "0.0.0.0", "loopback"},
		{"unspecified IPv6 reaches this host", defaults, "::", "loopback"},
		{"link-local IPv4", defaults, "169.254.10.1", "link-local"},
		{"link-local IPv6", defaults, "fe80::1", "link-local"},
		{"link-local IPv6 with a zone", defaults, "fe80::1%eth0", "link-local"},
		{"AWS, GCP and Azure metadata", defaults, "169.254.169.254", "metadata"},
		{"AWS metadata over IPv6", defaults, "fd00:ec2::254", "metadata"},
		{"Alibaba metadata", defaults, "100.100.100.200", "metadata"},
		{"IPv4-mapped loopback", defaults, "::ffff:127.0.0.1", "loopback"},
		{"IPv4-mapped metadata", defaults, "::ffff:169.254.169.254", "metadata"},
		{"public IPv4", defaults, "93.184.216.34", ""},
		{"public IPv6", defaults, "2606:2800:220:1::1", ""},
		{"private networks stay reachable by default", defaults, "10.1.2.3", ""},
		{"unique local IPv6 stays reachable by default", defaults, "fd12::1", ""},
		{"allow overrides deny", notify.OutboundPolicy{Allow: mustNetworks(t, "127.0.0.1"), Deny: notify.DefaultDeny()}, "127.0.0.1", ""},
		{"allow covers only its prefix", notify.OutboundPolicy{Allow: mustNetworks(t, "127.0.0.1"), Deny: notify.DefaultDeny()}, "127.0.0.2", "loopback"},
		{"allow covers the IPv4-mapped form", notify.OutboundPolicy{Allow: mustNetworks(t, "127.0.0.1"), Deny: notify.DefaultDeny()}, "::ffff:127.0.0.1", ""},
		{"an IPv4-mapped allow prefix covers the IPv4 address",
			notify.OutboundPolicy{Allow: []netip.Prefix{netip.MustParsePrefix("::ffff:127.0.0.0/104")}, Deny: notify.DefaultDeny()}, "127.0.0.5", ""},
		{"an IPv4-mapped deny prefix covers the IPv4 address",
			notify.OutboundPolicy{Deny: []netip.Prefix{netip.MustParsePrefix("::ffff:203.0.113.0/120")}}, "203.0.113.9", "denied 203.0.113.0/24"},
		{"denied private network", notify.OutboundPolicy{Deny: mustNetworks(t, "private")}, "172.20.0.1", "private"},
		{"denied private IPv6", notify.OutboundPolicy{Deny: mustNetworks(t, "private")}, "fd12::1", "private"},
		{"denied CIDR", notify.OutboundPolicy{Deny: mustNetworks(t, "203.0.113.0/24")}, "203.0.113.7", "denied 203.0.113.0/24"},
		{"the zero policy refuses nothing", notify.OutboundPolicy{}, "127.0.0.1", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.policy.Check(netip.MustParseAddr(c.addr))
			if c.reason == "" {
				if err != nil {
					t.Fatalf("%s refused: %v", c.addr, err)
				}
				return
			}
			if !errors.Is(err, notify.ErrDestinationRefused) || !strings.Contains(err.Error(), "("+c.reason+")") {
				t.Fatalf("%s: got %v, want refused (%s)", c.addr, err, c.reason)
			}
		})
	}
}

func TestOutboundPolicy_refusalSaysHowToAllow(t *testing.T) {
	t.Parallel()
	policy := notify.OutboundPolicy{Deny: notify.DefaultDeny()}
	for addr, want := range map[string]string{
		"127.0.0.1":        "destination 127.0.0.1 is refused by the outbound policy (loopback); allow it with --outbound-allow 127.0.0.1/32 or outbound.allow in herald.yaml",
		"::ffff:127.0.0.1": "destination 127.0.0.1 is refused by the outbound policy (loopback); allow it with --outbound-allow 127.0.0.1/32 or outbound.allow in herald.yaml",
		"fe80::1%eth0":     "destination fe80::1 is refused by the outbound policy (link-local); allow it with --outbound-allow fe80::1/128 or outbound.allow in herald.yaml",
	} {
		err := policy.Check(netip.MustParseAddr(addr))
		var refused *notify.DestinationRefusedError
		if !errors.As(err, &refused) || err.Error() != want {
			t.Errorf("%s:\n got %v\nwant %s", addr, err, want)
		}
	}
	if err := policy.Check(netip.Addr{}); !errors.Is(err, notify.ErrDestinationRefused) {
		t.Errorf("no address: %v", err)
	}
}

func TestParseNetworks(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		in   []string
		want string // the prefixes, space-separated
	}{
		{"CIDRs", []string{"10.1.0.0/16", "2001:db8::/32"}, "10.1.0.0/16 2001:db8::/32"},
		{"a CIDR is masked", []string{"10.1.2.3/16"}, "10.1.0.0/16"},
		{"bare addresses are single hosts", []string{"127.0.0.1", "::1"}, "127.0.0.1/32 ::1/128"},
		{"IPv4-mapped forms become IPv4", []string{"::ffff:127.0.0.1", "::ffff:169.254.0.0/112"}, "127.0.0.1/32 169.254.0.0/16"},
		{"spaces around an item", []string{" 10.0.0.1 "}, "10.0.0.1/32"},
		{"loopback", []string{"loopback"}, "127.0.0.0/8 ::1/128 0.0.0.0/8 ::/128"},
		{"link-local", []string{"link-local"}, "169.254.0.0/16 fe80::/10"},
		{"metadata", []string{"metadata"}, "169.254.169.254/32 fd00:ec2::254/128 100.100.100.200/32 168.63.129.16/32"},
		{"private", []string{"Private"}, "10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 fc00::/7"},
		{"nothing", nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := notify.ParseNetworks(c.in)
			if err != nil {
				t.Fatal(err)
			}
			var s []string
			for _, p := range got {
				s = append(s, p.String())
			}
			if strings.Join(s, " ") != c.want {
				t.Fatalf("got %v, want %s", s, c.want)
			}
		})
	}
}

func TestParseNetworks_badItemsAreNamed(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"10.0.0.0/33":  `outbound network "10.0.0.0/33" is not a valid CIDR`,
		"10.0.0/8":     `outbound network "10.0.0/8" is not a valid CIDR`,
		"example.com":  `outbound network "example.com" is not a CIDR, an IP address or one of metadata, loopback, link-local, private`,
		"":             `outbound network "" is not a CIDR`,
		"fe80::1%eth0": `outbound network "fe80::1%eth0" is not a CIDR`,
	} {
		_, err := notify.ParseNetworks([]string{"loopback", in})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %s", in, err, want)
		}
	}
}

// listen returns the port of a listener on 127.0.0.1 that accepts and closes connections.
func listen(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// The address is checked after resolution, when it is dialed: by DialContext (what the mail
// sender dials with) and by the transport's dialer.
func TestOutboundPolicy_DialContext(t *testing.T) {
	t.Parallel()
	port := listen(t)
	policy := notify.OutboundPolicy{Deny: notify.DefaultDeny()}
	for name, dial := range map[string]func(context.Context, string, string) (net.Conn, error){
		"DialContext": policy.DialContext(time.Second), "Transport": policy.Transport().DialContext,
	} {
		for _, host := range []string{"127.0.0.1", "localhost"} {
			if c, err := dial(context.Background(), "tcp", net.JoinHostPort(host, port)); !errors.Is(err, notify.ErrDestinationRefused) {
				if c != nil {
					_ = c.Close()
				}
				t.Errorf("%s %s: got %v, want refused", name, host, err)
			}
		}
	}
	allowing := notify.OutboundPolicy{Allow: mustNetworks(t, "127.0.0.1"), Deny: notify.DefaultDeny()}.DialContext(time.Second)
	c, err := allowing(context.Background(), "tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		t.Fatalf("allowed address: %v", err)
	}
	_ = c.Close()
}

// Behind a proxy herald dials the proxy, so the transport checks what the URL names before it
// picks a proxy.
func TestOutboundPolicy_Transport_checksTheURLBeforeTheProxy(t *testing.T) {
	t.Parallel()
	transport := notify.OutboundPolicy{Deny: notify.DefaultDeny()}.Transport()
	for url, refused := range map[string]bool{
		"http://169.254.169.254/latest/meta-data/": true,
		"http://[::ffff:a9fe:a9fe]/":               true,
		"http://printer.localhost:631/":            true,
		"http://LOCALHOST./":                       true,
		"https://hooks.slack.com/services/T0/B0/X": false,
		"http://10.0.0.5:8080/hook":                false,
	} {
		req, err := http.NewRequest(http.MethodPost, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = transport.Proxy(req)
		if errors.Is(err, notify.ErrDestinationRefused) != refused {
			t.Errorf("%s: got %v, want refused=%v", url, err, refused)
		}
	}
	allowing := notify.OutboundPolicy{Allow: mustNetworks(t, "127.0.0.1"), Deny: notify.DefaultDeny()}.Transport()
	req, _ := http.NewRequest(http.MethodPost, "http://localhost:8080/hook", nil)
	if _, err := allowing.Proxy(req); err != nil {
		t.Errorf("localhost with 127.0.0.1 allowed: %v", err)
	}
}
