;;; emacs.el --- drives eglot, configured by the docs' Emacs snippet, through a race  -*- lexical-binding: t -*-
;; What a user does: open the file, see E201, run eglot-code-actions and pick the help line's
;; dep, see the race go. Run by tests/test_lsp_editors.py:
;;   PTO_RACY=f.pto PTO_MLIR=g.pto PTO_RESULT=out.json \
;;     emacs --batch -Q -l init.el -l emacs.el
;; It writes what it saw to PTO_RESULT as JSON (the test asserts on it) and exits.
(require 'eglot)
(require 'flymake)
(require 'json)

(defvar pto-out nil "What the run saw, an alist.")

(defun pto-see (key value) (push (cons key value) pto-out))

(defun pto-finish (err)
  (pto-see 'error err)
  (with-temp-file (getenv "PTO_RESULT") (insert (json-encode pto-out)))
  (kill-emacs 0))

(defun pto-idle ()
  "What an idle moment of an interactive Emacs does, which --batch never has: run the idle
timers (eglot sends a change to the server from one)."
  (dolist (timer (copy-sequence timer-idle-list))
    (when (memq timer timer-idle-list)
      (cancel-timer timer)
      (apply (timer--function timer) (timer--args timer)))))

(defun pto-wait (pred seconds)
  "Run the event loop until PRED holds or SECONDS pass; PRED's value."
  (let ((deadline (+ (float-time) seconds)) (v nil))
    (while (and (not (setq v (funcall pred))) (< (float-time) deadline))
      (pto-idle)
      (accept-process-output nil 0.05)
      (flymake-start))
    v))

(defun pto-race ()
  (seq-find (lambda (d) (string-match-p "\\[E201\\]" (flymake-diagnostic-text d)))
            (flymake-diagnostics)))

(condition-case err
    (progn
      ;; An MLIR file of the PTO assembler is not taken by pto-mode.
      (find-file (getenv "PTO_MLIR"))
      (pto-see 'mlir_mode (symbol-name major-mode))
      (find-file (getenv "PTO_RACY"))
      (pto-see 'mode (symbol-name major-mode))
      ;; The end of the command that opened the file: eglot-ensure connects then.
      (run-hooks 'post-command-hook)
      (unless (pto-wait #'pto-race 30) (pto-finish "no E201 within 30 s"))
      (let* ((d (pto-race))
             (lsp (alist-get 'eglot-lsp-diag (flymake-diagnostic-data d))))
        (goto-char (flymake-diagnostic-beg d))
        (pto-see 'line (line-number-at-pos))
        (pto-see 'column (current-column))
        (pto-see 'text (flymake-diagnostic-text d))
        (pto-see 'related (plist-get lsp :relatedInformation)))
      ;; eglot-code-actions as run interactively; the user picks the help line's dep from
      ;; the menu once it also offers the inferred clause (which follows the diagnostics by a
      ;; moment; until then the menu is dismissed and asked for again).
      (let ((offered nil) (deadline (+ (float-time) 20)))
        (while (and (catch 'pto-again
                      (cl-letf (((symbol-function 'completing-read)
                                 (lambda (_prompt collection &rest _)
                                   (setq offered (all-completions "" collection))
                                   (when (and (< (length offered) 2)
                                              (< (float-time) deadline))
                                     (throw 'pto-again t))
                                   (seq-find (lambda (c) (string-match-p "add 'dep right'" c))
                                             offered))))
                        ;; From the keyboard (after a mouse event eglot shows a mouse menu).
                        (let ((last-nonmenu-event ?\C-c))
                          (call-interactively #'eglot-code-actions))
                        nil))
                    (progn (pto-wait #'ignore 0.2) t)))
        (pto-see 'actions (vconcat offered)))
      (pto-see 'cleared (and (pto-wait (lambda () (null (flymake-diagnostics))) 30) t))
      (goto-char (point-min))
      (forward-line 19)
      (pto-see 'fixed_line (buffer-substring (point) (line-end-position)))
      (pto-finish nil))
  (error (pto-finish (error-message-string err))))
