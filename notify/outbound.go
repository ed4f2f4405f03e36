package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrDestinationRefused is wrapped by every connection the outbound policy refuses.
var ErrDestinationRefused = errors.New("destination refused by the outbound policy")

// OutboundPolicy says which addresses herald may connect to when it delivers a notification.
// The URLs and mail servers come from users, so without it anyone who may create a
// configuration could make herald reach its own loopback services or the cloud metadata
// endpoint (server-side request forgery).
//
// An address in Allow is always permitted; otherwise an address in Deny is refused; anything
// else is permitted. The zero policy refuses nothing: wiring puts DefaultDeny() in Deny.
// IPv4-mapped IPv6 addresses (::ffff:127.0.0.1) are checked as the IPv4 address they carry.
type OutboundPolicy struct {
	Allow, Deny []netip.Prefix
}

// DestinationRefusedError is a connection the outbound policy refused. It wraps
// ErrDestinationRefused and tells the operator how to permit the address.
type DestinationRefusedError struct {
	Addr    netip.Addr
	Network netip.Prefix // the most specific Deny prefix holding Addr
}

func (e *DestinationRefusedError) Error() string {
	return fmt.Sprintf("destination %s is refused by the outbound policy (%s); allow it with --outbound-allow %s or outbound.allow in herald.yaml",
		e.Addr, networkName(e.Network), netip.PrefixFrom(e.Addr, e.Addr.BitLen()))
}

func (e *DestinationRefusedError) Unwrap() error { return ErrDestinationRefused }

// networkNames are the names ParseNetworks accepts. A refusal names the set holding the most
// specific denied prefix, so 169.254.169.254 is "metadata", not "link-local".
func networkNames() []string { return []string{"metadata", "loopback", "link-local", "private"} }

// namedNetworks returns the prefixes behind a name of networkNames (nil for another name).
func namedNetworks(name string) []netip.Prefix {
	switch name {
	case "loopback": // with the unspecified addresses, which connect to this host too
		return prefixes("127.0.0.0/8", "::1/128", "0.0.0.0/8", "::/128")
	case "link-local":
		return prefixes("169.254.0.0/16", "fe80::/10")
	case "metadata": // AWS, GCP, Azure and Oracle; AWS over IPv6; Alibaba; Azure's WireServer
		return prefixes("169.254.169.254/32", "fd00:ec2::254/128", "100.100.100.200/32", "168.63.129.16/32")
	case "private":
		return prefixes("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
	}
	return nil
}

// DefaultDeny is what herald refuses unless told otherwise: loopback, link-local and cloud
// metadata addresses. Private networks stay reachable, since receivers inside the company
// network (an on-premises Jira, a mail relay) are the common case.
func DefaultDeny() []netip.Prefix {
	var deny []netip.Prefix
	for _, name := range []string{"loopback", "link-local", "metadata"} {
		deny = append(deny, namedNetworks(name)...)
	}
	return deny
}

// ParseNetworks reads an allow or deny list: CIDRs (10.1.0.0/16), addresses (10.1.2.3, as a
// /32 or /128) and the names loopback, link-local, metadata and private.
func ParseNetworks(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range list {
		s := strings.TrimSpace(item)
		if named := namedNetworks(strings.ToLower(s)); named != nil {
			out = append(out, named...)
			continue
		}
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("outbound network %q is not a valid CIDR: %w", item, err)
			}
			out = append(out, unmapPrefix(p.Masked()))
			continue
		}
		ip, err := netip.ParseAddr(s)
		if err != nil || ip.Zone() != "" {
			return nil, fmt.Errorf("outbound network %q is not a CIDR, an IP address or one of %s", item, strings.Join(networkNames(), ", "))
		}
		ip = ip.Unmap()
		out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
	}
	return out, nil
}

// Check tells whether herald may connect to ip: nil, or a *DestinationRefusedError.
func (p OutboundPolicy) Check(ip netip.Addr) error {
	if !ip.IsValid() {
		return fmt.Errorf("%w: no address", ErrDestinationRefused)
	}
	ip = ip.WithZone("").Unmap() // a zoned address matches no prefix
	if _, ok := longestMatch(p.Allow, ip); ok {
		return nil
	}
	if deny, ok := longestMatch(p.Deny, ip); ok {
		return &DestinationRefusedError{Addr: ip, Network: deny}
	}
	return nil
}

// Dialer returns a dialer that checks every address it connects to. The check runs in
// Control, after name resolution and for each address tried, so a name that resolves (or is
// rebound) to a refused address is refused too.
func (p OutboundPolicy) Dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: p.control}
}

// DialContext is Dialer(timeout).DialContext, for senders that speak something else than
// HTTP (SMTP).
func (p OutboundPolicy) DialContext(timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return p.Dialer(timeout).DialContext
}

// Transport returns a clone of http.DefaultTransport whose connections go through Dialer.
//
// It keeps the proxy from the environment (HTTP_PROXY, HTTPS_PROXY, NO_PROXY): deployments
// that can only reach the internet through a proxy need it. With a proxy, herald dials the
// proxy, not the receiver, so:
//   - the connection to the proxy is checked like any other: a proxy on a refused address
//     (a sidecar on 127.0.0.1) must be allowed;
//   - a URL whose host is an IP address or a localhost name is checked before the request is
//     handed to the proxy, which would otherwise connect to it for herald;
//   - other names are resolved by the proxy, out of herald's sight: the proxy's own rules
//     must refuse internal destinations.
func (p OutboundPolicy) Transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = p.Dialer(30 * time.Second).DialContext
	proxy := t.Proxy
	t.Proxy = func(r *http.Request) (*url.URL, error) {
		if err := p.checkHost(r.URL.Hostname()); err != nil {
			return nil, err
		}
		if proxy == nil {
			return nil, nil
		}
		return proxy(r)
	}
	return t
}

// control is the dialer's Control: address is the IP and port about to be connected to.
func (p OutboundPolicy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %q is not an address and port", ErrDestinationRefused, address)
	}
	return p.Check(ap.Addr())
}

// checkHost checks a URL's host when it says where it leads without a lookup: an IP address,
// or a localhost name (RFC 6761: always loopback), refused unless 127.0.0.1 or ::1 is allowed.
func (p OutboundPolicy) checkHost(host string) error {
	if ip, err := netip.ParseAddr(host); err == nil {
		return p.Check(ip)
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if name != "localhost" && !strings.HasSuffix(name, ".localhost") {
		return nil
	}
	err := p.Check(netip.AddrFrom4([4]byte{127, 0, 0, 1}))
	if err != nil && p.Check(netip.IPv6Loopback()) == nil {
		return nil
	}
	return err
}

// longestMatch returns the most specific prefix of list that holds ip (an unmapped address).
func longestMatch(list []netip.Prefix, ip netip.Addr) (netip.Prefix, bool) {
	var best netip.Prefix
	found := false
	for _, p := range list {
		p = unmapPrefix(p)
		if p.Contains(ip) && (!found || p.Bits() > best.Bits()) {
			best, found = p, true
		}
	}
	return best, found
}

// unmapPrefix turns an IPv4-mapped prefix (::ffff:127.0.0.0/104) into the IPv4 prefix it
// covers (127.0.0.0/8), since Check compares unmapped addresses.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96).Masked()
	}
	return p
}

// networkName says which named set a refused prefix comes from, or the prefix itself.
func networkName(p netip.Prefix) string {
	for _, name := range networkNames() {
		for _, q := range namedNetworks(name) {
			if q == p {
				return name
			}
		}
	}
	return "denied " + p.String()
}

func prefixes(cidrs ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(cidrs))
	for i, c := range cidrs {
		out[i] = netip.MustParsePrefix(c)
	}
	return out
}
