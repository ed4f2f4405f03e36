// Package smtptest is an SMTP server for tests. It listens on 127.0.0.1, offers STARTTLS (or
// speaks TLS from the first byte) with a certificate made when it starts, authenticates one
// user with AUTH PLAIN or LOGIN, and records what it receives: every command, and every
// message with its envelope, whether TLS protected it and who had authenticated.
package smtptest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"net/textproto"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Config is how the server behaves.
type Config struct {
	// ImplicitTLS makes the server speak TLS from the first byte, as on port 465.
	ImplicitTLS bool
	// NoStartTLS keeps the server from offering STARTTLS.
	NoStartTLS bool
	// Username and Password, when set, are the one account AUTH PLAIN and AUTH LOGIN accept;
	// MAIL is then refused until the client has authenticated.
	Username, Password string
	// AuthMechanisms are the mechanisms offered, of PLAIN and LOGIN; nil offers both.
	AuthMechanisms []string
	// RcptReply and DataReply, when set, replace the 250 the server answers to RCPT and to
	// the end of a message: "451 4.3.0 try again later", "550 5.1.1 no such mailbox".
	RcptReply, DataReply string
}

// Message is one message the server took.
type Message struct {
	From     string   // the envelope sender (MAIL FROM)
	To       []string // the envelope recipients (RCPT TO)
	Data     []byte   // the message as sent after DATA, dot-unstuffed, with CRLF line ends
	TLS      bool     // the session was protected by TLS
	AuthUser string   // who had authenticated; "" for nobody
	AuthMech string   // how: PLAIN or LOGIN
}

// Command is one command the server read.
type Command struct {
	Verb string // upper case: EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA, ...
	Arg  string // what followed the verb; for AUTH only the mechanism, never credentials
	TLS  bool   // the session was protected by TLS when the command came
}

// Server is a running SMTP server.
type Server struct {
	Host string // 127.0.0.1
	Port int

	cfg       Config
	listener  net.Listener
	tlsConfig *tls.Config
	roots     *x509.CertPool
	sessions  sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	conns    map[net.Conn]struct{}
	messages []Message
	commands []Command
}

// Start starts a server that stops when the test ends.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	cert, roots, err := newCertificate()
	if err != nil {
		t.Fatalf("smtptest: certificate: %v", err)
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	s := &Server{
		cfg:       cfg,
		tlsConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		roots:     roots,
		conns:     map[net.Conn]struct{}{},
	}
	s.Host, s.Port = "127.0.0.1", listener.Addr().(*net.TCPAddr).Port
	s.listener = listener
	if cfg.ImplicitTLS {
		s.listener = tls.NewListener(listener, s.tlsConfig)
	}
	s.sessions.Add(1)
	go s.accept()
	t.Cleanup(s.Close)
	return s
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, fmt.Sprint(s.Port)) }

// RootCAs trust the server's certificate.
func (s *Server) RootCAs() *x509.CertPool { return s.roots }

// Messages returns the messages taken so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Commands returns the commands read so far, from every session, in order.
func (s *Server) Commands() []Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Command(nil), s.commands...)
}

// Close stops the server and ends its sessions.
func (s *Server) Close() {
	_ = s.listener.Close()
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.sessions.Wait()
}

func (s *Server) accept() {
	defer s.sessions.Done()
	for {
		conn, err := s.listener.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = conn.Close()
			return
		}
		s.conns[conn] = struct{}{}
		s.mu.Unlock()
		s.sessions.Add(1)
		go func() {
			defer s.sessions.Done()
			defer s.forget(conn)
			_ = conn.SetDeadline(time.Now().Add(time.Minute)) // a stuck test fails rather than hangs
			(&session{server: s, conn: conn, text: textproto.NewConn(conn), tls: s.cfg.ImplicitTLS}).serve()
		}()
	}
}

func (s *Server) forget(conn net.Conn) {
	_ = conn.Close()
	s.mu.Lock()
	delete(s.conns, conn)
	s.mu.Unlock()
}

func (s *Server) mechanisms() []string {
	if s.cfg.AuthMechanisms == nil {
		return []string{"PLAIN", "LOGIN"}
	}
	return s.cfg.AuthMechanisms
}

func (s *Server) record(c Command) {
	s.mu.Lock()
	s.commands = append(s.commands, c)
	s.mu.Unlock()
}

func (s *Server) take(m Message) {
	s.mu.Lock()
	s.messages = append(s.messages, m)
	s.mu.Unlock()
}

// session is one client's connection.
type session struct {
	server *Server
	conn   net.Conn
	text   *textproto.Conn
	tls    bool

	greeted  bool
	authUser string
	authMech string
	from     string
	to       []string
	inMail   bool
}

func (c *session) serve() {
	c.reply("220 smtptest ESMTP ready")
	for {
		line, err := c.text.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		verb, arg = strings.ToUpper(verb), strings.TrimSpace(arg)
		recorded := arg
		if verb == "AUTH" {
			recorded, _, _ = strings.Cut(arg, " ")
		}
		c.server.record(Command{Verb: verb, Arg: recorded, TLS: c.tls})
		if !c.handle(verb, arg) {
			return
		}
	}
}

// handle answers one command; false ends the session.
func (c *session) handle(verb, arg string) bool {
	cfg := c.server.cfg
	switch verb {
	case "EHLO":
		c.greeted = true
		c.reset()
		lines := []string{"smtptest greets " + arg, "8BITMIME"}
		if !c.tls && !cfg.NoStartTLS {
			lines = append(lines, "STARTTLS")
		}
		if cfg.Username != "" {
			lines = append(lines, "AUTH "+strings.Join(c.server.mechanisms(), " "))
		}
		lines = append(lines, "HELP")
		for i, l := range lines {
			sep := "-"
			if i == len(lines)-1 {
				sep = " "
			}
			c.reply("250" + sep + l)
		}
	case "HELO":
		c.greeted = true
		c.reset()
		c.reply("250 smtptest greets " + arg)
	case "STARTTLS":
		return c.startTLS()
	case "AUTH":
		return c.auth(arg)
	case "MAIL":
		switch {
		case !c.greeted:
			c.reply("503 5.5.1 say EHLO first")
		case cfg.Username != "" && c.authUser == "":
			c.reply("530 5.7.0 authentication required")
		case c.inMail:
			c.reply("503 5.5.1 nested MAIL command")
		default:
			c.from, c.inMail = path(arg), true
			c.reply("250 2.1.0 ok")
		}
	case "RCPT":
		switch {
		case !c.inMail:
			c.reply("503 5.5.1 need MAIL first")
		case cfg.RcptReply != "":
			c.reply(cfg.RcptReply)
		default:
			c.to = append(c.to, path(arg))
			c.reply("250 2.1.5 ok")
		}
	case "DATA":
		if len(c.to) == 0 {
			c.reply("503 5.5.1 need RCPT first")
			break
		}
		c.reply("354 end data with <CR><LF>.<CR><LF>")
		data, err := c.text.ReadDotBytes()
		if err != nil {
			return false
		}
		if cfg.DataReply != "" {
			c.reply(cfg.DataReply)
			c.reset()
			break
		}
		// ReadDotBytes turns CRLF into LF; give the message back its wire form.
		data = bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n"))
		c.server.take(Message{From: c.from, To: c.to, Data: data, TLS: c.tls, AuthUser: c.authUser, AuthMech: c.authMech})
		c.reset()
		c.reply("250 2.0.0 ok: queued as smtptest")
	case "RSET":
		c.reset()
		c.reply("250 2.0.0 ok")
	case "NOOP":
		c.reply("250 2.0.0 ok")
	case "QUIT":
		c.reply("221 2.0.0 bye")
		return false
	default:
		c.reply("500 5.5.2 unknown command")
	}
	return true
}

// startTLS upgrades the session; like any server (RFC 3207) it then forgets the greeting.
func (c *session) startTLS() bool {
	if c.tls || c.server.cfg.NoStartTLS {
		c.reply("502 5.5.1 STARTTLS not available")
		return true
	}
	c.reply("220 2.0.0 ready to start TLS")
	conn := tls.Server(c.conn, c.server.tlsConfig)
	if err := conn.Handshake(); err != nil {
		return false // the client refused the certificate
	}
	c.conn, c.text, c.tls = conn, textproto.NewConn(conn), true
	c.greeted, c.authUser, c.authMech = false, "", ""
	c.reset()
	return true
}

// auth runs AUTH PLAIN or AUTH LOGIN, with or without an initial response.
func (c *session) auth(arg string) bool {
	cfg := c.server.cfg
	if cfg.Username == "" {
		c.reply("502 5.5.1 AUTH not available")
		return true
	}
	if c.authUser != "" {
		c.reply("503 5.5.1 already authenticated")
		return true
	}
	mech, initial, _ := strings.Cut(arg, " ")
	mech = strings.ToUpper(mech)
	if !slices.Contains(c.server.mechanisms(), mech) {
		c.reply("504 5.5.4 unrecognized authentication type")
		return true
	}
	var user, password string
	switch mech {
	case "PLAIN":
		response, ok := c.challenge("", initial)
		if !ok {
			return c.abortAuth()
		}
		parts := strings.Split(response, "\x00")
		if len(parts) != 3 {
			c.reply("501 5.5.2 malformed PLAIN response")
			return true
		}
		user, password = parts[1], parts[2]
	case "LOGIN":
		var ok bool
		if user, ok = c.challenge("Username:", initial); !ok {
			return c.abortAuth()
		}
		if password, ok = c.challenge("Password:", ""); !ok {
			return c.abortAuth()
		}
	default:
		c.reply("504 5.5.4 unrecognized authentication type")
		return true
	}
	if user != cfg.Username || password != cfg.Password {
		c.reply("535 5.7.8 authentication credentials invalid")
		return true
	}
	c.authUser, c.authMech = user, mech
	c.reply("235 2.7.0 authentication successful")
	return true
}

// challenge returns the client's decoded answer to prompt: initial when the client gave it
// with the command. ok is false when the client cancelled or sent something undecodable.
func (c *session) challenge(prompt, initial string) (string, bool) {
	answer := initial
	if answer == "" {
		c.reply("334 " + base64.StdEncoding.EncodeToString([]byte(prompt)))
		line, err := c.text.ReadLine()
		if err != nil {
			return "", false
		}
		answer = line
	}
	if answer == "*" {
		return "", false
	}
	decoded, err := base64.StdEncoding.DecodeString(answer)
	return string(decoded), err == nil
}

func (c *session) abortAuth() bool {
	c.reply("501 5.7.0 authentication cancelled")
	return true
}

func (c *session) reset() {
	c.from, c.to, c.inMail = "", nil, false
}

func (c *session) reply(line string) {
	_ = c.text.PrintfLine("%s", line)
}

// path reads the address of "FROM:<a@b> BODY=8BITMIME" or "TO:<a@b>".
func path(arg string) string {
	start, end := strings.IndexByte(arg, '<'), strings.IndexByte(arg, '>')
	if start < 0 || end < start {
		return ""
	}
	return arg[start+1 : end]
}
