package wizard

import (
	"io"
	"sync"

	"golang.org/x/term"
)

// keyboard reads the terminal in one goroutine for the whole wizard and
// hands the bytes to the screen showing now.
//
// Each question is its own Bubble Tea program, and a finished program
// leaves its input goroutine blocked in a read of the terminal
// (ultraviolet's reader is not cancelled with the program): that goroutine
// would swallow the next keys typed, the first answer to the next question
// (seen in tmux: every question after a sign-in lost its first Enter). With
// one reader, a finished program's leftover read ends with its session.
type keyboard struct {
	src  io.Reader
	fd   int
	tty  bool
	once sync.Once
	data chan []byte

	mu     sync.Mutex
	unread [][]byte
}

func newKeyboard(src io.Reader) *keyboard {
	k := &keyboard{src: src, data: make(chan []byte)}
	if f, ok := src.(interface{ Fd() uintptr }); ok && term.IsTerminal(int(f.Fd())) {
		k.fd, k.tty = int(f.Fd()), true
	}
	return k
}

func (k *keyboard) pump() {
	buf := make([]byte, 4096)
	for {
		n, err := k.src.Read(buf)
		if n > 0 {
			k.data <- append([]byte(nil), buf[:n]...)
		}
		if err != nil {
			close(k.data)
			return
		}
	}
}

// raw puts the terminal into raw mode, as Bubble Tea would for a terminal
// input it reads itself, and returns the function that restores it.
func (k *keyboard) raw() func() {
	if !k.tty {
		return func() {}
	}
	restore, err := makeRaw(k.fd)
	if err != nil {
		return func() {}
	}
	return restore
}

// session is the input of one program; close ends it.
func (k *keyboard) session() *session {
	k.once.Do(func() { go k.pump() })
	return &session{k: k, done: make(chan struct{})}
}

func (k *keyboard) pushUnread(b []byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.unread = append(k.unread, b)
}

func (k *keyboard) popUnread() []byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.unread) == 0 {
		return nil
	}
	b := k.unread[0]
	k.unread = k.unread[1:]
	return b
}

type session struct {
	k         *keyboard
	done      chan struct{}
	closeOnce sync.Once
	pending   []byte
}

func (s *session) Read(p []byte) (int, error) {
	if len(s.pending) == 0 {
		select {
		case <-s.done:
			return 0, io.EOF
		default:
		}
		if b := s.k.popUnread(); b != nil {
			s.pending = b
		} else {
			select {
			case <-s.done:
				return 0, io.EOF
			case b, ok := <-s.k.data:
				if !ok {
					return 0, io.EOF
				}
				select {
				case <-s.done:
					// Read for a program that has ended: the keys belong to
					// the next one.
					s.k.pushUnread(b)
					return 0, io.EOF
				default:
				}
				s.pending = b
			}
		}
	}
	n := copy(p, s.pending)
	s.pending = s.pending[n:]
	return n, nil
}

func (s *session) close() {
	s.closeOnce.Do(func() { close(s.done) })
}
