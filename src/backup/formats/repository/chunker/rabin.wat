;; Fingerprint search of restic's chunker (see core.ts for the rules). Source of rabin-wasm.ts: after an edit, run
;; build-wasm.mjs (wabt, an npm dev dependency), which writes the binary into rabin-wasm.ts.
;;
;; Memory (imported, one per core, never grown): bytes 0..2047 the out table, 2048..4095 the mod table (256
;; little-endian u64 each, written by JS), data from 4096 on.
;;
;; Speed: each byte costs a table load whose address depends on the previous byte's digest, so one rolling hash is
;; bound by load latency, not by work. The fingerprint depends only on the last 64 bytes, so find() hashes 4
;; stretches of 16384 candidates at once (4 independent dependency chains; each lane starts from its own 64-byte
;; window) and takes the first hit in address order. A block is hashed to its end even after a hit (65536 candidates).
(module
  (import "env" "memory" (memory 1))
  (global $mask (mut i64) (i64.const 0))
  (global $shift (mut i64) (i64.const 0))

  (func (export "configure") (param $mask i64) (param $shift i64)
    (global.set $mask (local.get $mask))
    (global.set $shift (local.get $shift)))

  ;; find(lo, hi): the first c in [lo, hi] whose window memory[c-64..c) has (fingerprint & mask) == 0, or -1.
  (func (export "find") (param $lo i32) (param $hi i32) (result i32)
    (local $c i32) (local $r i32) (local $stop i32) (local $mask i64) (local $shift i64) (local $d i64)
    (local $d0 i64) (local $d1 i64) (local $d2 i64) (local $d3 i64)
    (local $h0 i32) (local $h1 i32) (local $h2 i32) (local $h3 i32)
    (local.set $mask (global.get $mask))
    (local.set $shift (global.get $shift))
    (local.set $c (local.get $lo))
    (block $tail
      (loop $blocks
        ;; A whole block: lane k takes the candidates c+k*16384 .. c+k*16384+16383.
        (br_if $tail (i32.gt_u (i32.add (local.get $c) (i32.const 65535)) (local.get $hi)))
        (local.set $d0 (i64.const 0))
        (local.set $d1 (i64.const 0))
        (local.set $d2 (i64.const 0))
        (local.set $d3 (i64.const 0))
        (local.set $h0 (i32.const 0))
        (local.set $h1 (i32.const 0))
        (local.set $h2 (i32.const 0))
        (local.set $h3 (i32.const 0))
        ;; Each lane's first window: 64 bytes appended to a zero digest.
        (local.set $r (i32.sub (local.get $c) (i32.const 64)))
        (loop $warm
          (local.set $d0 (i64.xor
            (i64.or (i64.shl (local.get $d0) (i64.const 8)) (i64.load8_u offset=0 (local.get $r)))
            (i64.load offset=2048 (i32.shl (i32.wrap_i64 (i64.shr_u (local.get $d0) (local.get $shift))) (i32.const 3)))))
          (local.set $d1 (i64.xor
            (i64.or (i64.shl (local.get $d1) (i64.const 8)) (i64.load8_u offset=16384 (local.get $r)))
            (i64.load offset=2048 (i32.shl (i32.wrap_i64 (i64.shr_u (local.get $d1) (local.get $shift))) (i32.const 3)))))
          (local.set $d2 (i64.xor
            (i64.or (i64.shl (local.get $d2) (i64.const 8)) (i64.load8_u offset=32768 (local.get $r)))
            (i64.load offset=2048 (i32.shl (i32.wrap_i64 (i64.shr_u (local.get $d2) (local.get $shift))) (i32.const 3)))))
          (local.set $d3 (i64.xor
            (i64.or (i64.shl (local.get $d3) (i64.const 8)) (i64.load8_u offset=49152 (local.get $r)))
            (i64.load offset=2048 (i32.shl (i32.wrap_i64 (i64.shr_u (local.get $d3) (local.get $shift))) (i32.const 3)))))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br_if $warm (i32.lt_u (local.get $r) (local.get $c))))
        (if (i32.or (i32.or (i32.or (i64.eqz (i64.and (local.get $d0) (local.get $mask))) (i64.eqz (i64.and (local.get $d1) (local.get $mask)))) (i64.eqz (i64.and (local.get $d2) (local.get $mask)))) (i64.eqz (i64.and (local.get $d3) (local.get $mask))))
          (then
            (if (i32.and (i32.eqz (local.get $h0)) (i64.eqz (i64.and (local.get $d0) (local.get $mask))))
              (then (local.set $h0 (i32.add (local.get $c) (i32.const 0)))))
            (if (i32.and (i32.eqz (local.get $h1)) (i64.eqz (i64.and (local.get $d1) (local.get $mask))))
              (then (local.set $h1 (i32.add (local.get $c) (i32.const 16384)))))
            (if (i32.and (i32.eqz (local.get $h2)) (i64.eqz (i64.and (local.get $d2) (local.get $mask))))
              (then (local.set $h2 (i32.add (local.get $c) (i32.const 32768)))))
            (if (i32.and (i32.eqz (local.get $h3)) (i64.eqz (i64.and (local.get $d3) (local.get $mask))))
              (then (local.set $h3 (i32.add (local.get $c) (i32.const 49152)))))))
        ;; Roll: lane 0's outgoing byte is at r, its incoming byte at r+64, its candidate after the step is r+65.
        (local.set $r (i32.sub (local.get $c) (i32.const 64)))
        (local.set $stop (i32.add (local.get $r) (i32.const 16383)))
        (loop $roll
          (local.set $d0 (i64.xor (local.get $d0)
            (i64.load (i32.shl (i32.load8_u offset=0 (local.get $r)) (i32.const 3)))))
          (local.set $d0 (i64.xor
            (i64.or (i64.shl (local.get $d0) (i64.const 8)) (i64.load8_u offset=64 (local.get $r)))
            (i64.load offset=2048 (i32.shl (i32.wrap_i64 (i64.shr_u (local.get $d0) (local.get $shift))) (i32.const 3)))))
          (local.set $d1 (i64.xor (local.get $d1)
            (i64.load (i32.shl (i32.load8_u offset=16384 (local.get $r)) (i32.const 3)))))
          (local.set $d1 (i64.xor
            (i64.or (i64.shl (local.get $d1) (i64.const 8)) (i64.load8_u offset=16448 (local.get $r)))
            (i64.load offset=2048 (i32.shl (i32.wrap_i64 (i64.shr_u (local.get $d1) (local.get $shift))) (i32.const 3)))))
          (local.set $d2 (i64.xor (local.get $d2)
            (i64.load (i32.shl (i32.load8_u offset=32768 (local.get $r)) (i32.const 3)))))
          (local.set $d2 (i64.xor
            (i64.or (i64.shl (local.get $d2) (i64.const 8)) (i64.load8_u offset=32832 (local.get $r)))
            (i64.load offset=2048 (i32.shl (i32.wrap_i64 (i64.shr_u (local.get $d2) (local.get $shift))) (i32.const 3)))))
          (local.set $d3 (i64.xor (local.get $d3)
            (i64.load (i32.shl (i32.load8_u offset=49152 (local.get $r)) (i32.const 3)))))
          (local.set $d3 (i64.xor
            (i64.or (i64.shl (local.get $d3) (i64.const 8)) (i64.load8_u offset=49216 (local.get $r)))
            (i64.load offset=2048 (i32.shl (i32.wrap_i64 (i64.shr_u (local.get $d3) (local.get $shift))) (i32.const 3)))))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (if (i32.or (i32.or (i32.or (i64.eqz (i64.and (local.get $d0) (local.get $mask))) (i64.eqz (i64.and (local.get $d1) (local.get $mask)))) (i64.eqz (i64.and (local.get $d2) (local.get $mask)))) (i64.eqz (i64.and (local.get $d3) (local.get $mask))))
            (then
            (if (i32.and (i32.eqz (local.get $h0)) (i64.eqz (i64.and (local.get $d0) (local.get $mask))))
              (then (local.set $h0 (i32.add (i32.add (local.get $r) (i32.const 64)) (i32.const 0)))))
            (if (i32.and (i32.eqz (local.get $h1)) (i64.eqz (i64.and (local.get $d1) (local.get $mask))))
              (then (local.set $h1 (i32.add (i32.add (local.get $r) (i32.const 64)) (i32.const 16384)))))
            (if (i32.and (i32.eqz (local.get $h2)) (i64.eqz (i64.and (local.get $d2) (local.get $mask))))
              (then (local.set $h2 (i32.add (i32.add (local.get $r) (i32.const 64)) (i32.const 32768)))))
            (if (i32.and (i32.eqz (local.get $h3)) (i64.eqz (i64.and (local.get $d3) (local.get $mask))))
              (then (local.set $h3 (i32.add (i32.add (local.get $r) (i32.const 64)) (i32.const 49152)))))))
          (br_if $roll (i32.lt_u (local.get $r) (local.get $stop))))
      (if (local.get $h0) (then (return (local.get $h0))))
      (if (local.get $h1) (then (return (local.get $h1))))
      (if (local.get $h2) (then (return (local.get $h2))))
      (if (local.get $h3) (then (return (local.get $h3))))
        (local.set $c (i32.add (local.get $c) (i32.const 65536)))
        (br $blocks)))

    ;; Fewer than a block of candidates left: one lane.
    (if (i32.gt_u (local.get $c) (local.get $hi)) (then (return (i32.const -1))))
    (local.set $r (i32.sub (local.get $c) (i32.const 64)))
    (loop $warm1
      (local.set $d (i64.xor
        (i64.or (i64.shl (local.get $d) (i64.const 8)) (i64.load8_u (local.get $r)))
        (i64.load offset=2048 (i32.shl (i32.wrap_i64 (i64.shr_u (local.get $d) (local.get $shift))) (i32.const 3)))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br_if $warm1 (i32.lt_u (local.get $r) (local.get $c))))
    (if (i64.eqz (i64.and (local.get $d) (local.get $mask))) (then (return (local.get $c))))
    (local.set $r (i32.sub (local.get $c) (i32.const 64)))
    (local.set $stop (i32.sub (local.get $hi) (i32.const 64)))
    (block $none
      (loop $roll1
        (br_if $none (i32.ge_u (local.get $r) (local.get $stop)))
        (local.set $d (i64.xor (local.get $d)
          (i64.load (i32.shl (i32.load8_u (local.get $r)) (i32.const 3)))))
        (local.set $d (i64.xor
          (i64.or (i64.shl (local.get $d) (i64.const 8)) (i64.load8_u offset=64 (local.get $r)))
          (i64.load offset=2048 (i32.shl (i32.wrap_i64 (i64.shr_u (local.get $d) (local.get $shift))) (i32.const 3)))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br_if $roll1 (i32.eqz (i64.eqz (i64.and (local.get $d) (local.get $mask)))))
        (return (i32.add (local.get $r) (i32.const 64)))))
    (i32.const -1)))
