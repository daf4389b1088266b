// Shim over libedit's native API (histedit.h) for Swift.
//
// Swift cannot call C variadic functions (el_set, el_get, history), and Swift 6 rejects C's mutable globals
// (stdin, stdout, stderr). Every use the LineEditor target needs is wrapped here in a `static inline` function
// with a fixed signature. Nothing here keeps state.

#ifndef SCIMSH_CLIBEDIT_SHIM_H
#define SCIMSH_CLIBEDIT_SHIM_H

#include <histedit.h>
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/// A prompt callback: returns the prompt text (owned by the caller of el_set) for `el`.
typedef char *(*scimsh_el_prompt_func)(EditLine *el);

/// An editor function added with EL_ADDFN: gets the key pressed, returns one of the CC_* codes.
typedef unsigned char (*scimsh_el_func)(EditLine *el, int key);

// MARK: - Standard streams

/// The C `stdin` stream.
static inline FILE *scimsh_stdin(void) { return stdin; }

/// The C `stdout` stream.
static inline FILE *scimsh_stdout(void) { return stdout; }

/// The C `stderr` stream.
static inline FILE *scimsh_stderr(void) { return stderr; }

/// The calling thread's `errno`.
static inline int scimsh_errno(void) { return errno; }

/// Sets the calling thread's `errno`.
static inline void scimsh_set_errno(int value) { errno = value; }

// MARK: - el_set

/// EL_PROMPT_ESC: the prompt function; characters between two `ignore` characters are not counted as printing
/// (for colour escape sequences).
static inline int scimsh_el_set_prompt(EditLine *el, scimsh_el_prompt_func fn, char ignore) {
    return el_set(el, EL_PROMPT_ESC, fn, ignore);
}

/// EL_EDITOR: "emacs" or "vi".
static inline int scimsh_el_set_editor(EditLine *el, const char *mode) {
    return el_set(el, EL_EDITOR, mode);
}

/// EL_SIGNAL: when non-zero, libedit installs its own signal handlers while reading (restores the terminal on
/// SIGINT and friends, handles SIGWINCH) and re-raises the signal to the previous handler.
static inline int scimsh_el_set_signal(EditLine *el, int on) {
    return el_set(el, EL_SIGNAL, on);
}

/// EL_HIST: the history object Up/Down navigate (with the narrow `history` function).
static inline int scimsh_el_set_history(EditLine *el, History *hist) {
    return el_set(el, EL_HIST, history, hist);
}

/// EL_ADDFN: adds a named editor function that keys can be bound to.
static inline int scimsh_el_set_addfn(EditLine *el, const char *name, const char *help, scimsh_el_func fn) {
    return el_set(el, EL_ADDFN, name, help, fn);
}

/// EL_BIND: binds `key` (e.g. "^I") to the editor function named `command`.
static inline int scimsh_el_set_bind(EditLine *el, const char *key, const char *command) {
    return el_set(el, EL_BIND, key, command, (const char *)NULL);
}

/// EL_CLIENTDATA: an opaque pointer stored with the editor (an Unmanaged Swift object).
static inline int scimsh_el_set_clientdata(EditLine *el, void *data) {
    return el_set(el, EL_CLIENTDATA, data);
}

/// EL_REFRESH: redraws the prompt and the line.
static inline int scimsh_el_set_refresh(EditLine *el) {
    return el_set(el, EL_REFRESH);
}

// MARK: - el_get

/// EL_CLIENTDATA: the pointer stored with scimsh_el_set_clientdata, or NULL.
static inline void *scimsh_el_get_clientdata(EditLine *el) {
    void *data = NULL;
    if (el_get(el, EL_CLIENTDATA, &data) != 0) {
        return NULL;
    }
    return data;
}

/// EL_GETTC "co": the terminal's width in columns, or 0 when unknown.
static inline int scimsh_el_get_columns(EditLine *el) {
    int columns = 0;
    if (el_get(el, EL_GETTC, "co", &columns, (void *)NULL) != 0) {
        return 0;
    }
    return columns;
}

/// EL_GETFP 1: the output stream the editor writes to.
static inline FILE *scimsh_el_get_output(EditLine *el) {
    FILE *fp = NULL;
    if (el_get(el, EL_GETFP, 1, &fp) != 0) {
        return NULL;
    }
    return fp;
}

// MARK: - history

/// H_SETSIZE: keep at most `size` entries in memory.
static inline int scimsh_history_setsize(History *hist, int size) {
    HistEvent ev;
    return history(hist, &ev, H_SETSIZE, size);
}

/// H_SETUNIQUE: when non-zero, an entry equal to the previous one is not added.
static inline int scimsh_history_setunique(History *hist, int unique) {
    HistEvent ev;
    return history(hist, &ev, H_SETUNIQUE, unique);
}

/// H_ENTER: adds `line` as the newest entry.
static inline int scimsh_history_enter(History *hist, const char *line) {
    HistEvent ev;
    return history(hist, &ev, H_ENTER, line);
}

/// H_CLEAR: removes every entry.
static inline int scimsh_history_clear(History *hist) {
    HistEvent ev;
    return history(hist, &ev, H_CLEAR);
}

/// H_GETSIZE: the number of entries, or -1 on error.
static inline int scimsh_history_count(History *hist) {
    HistEvent ev;
    if (history(hist, &ev, H_GETSIZE) == -1) {
        return -1;
    }
    return ev.num;
}

#endif
