;; Adam's update as a WebAssembly kernel, two weights at a time (f64x2).
;;
;; Over 100,000 weights, Adam's step is bound by the divider: three divisions and a square root
;; per weight. JavaScript issues them one number at a time; f64x2 issues them for two, and
;; halves the step. The rule is Adam.apply's in optim.ts, operation for operation and in the
;; same order (no fused multiply-add, no reciprocal in place of a division), so every number is
;; the same, bit for bit (test/wasm.test.ts compares them). Compiled to src/wasm/adam-bytes.ts
;; by `npm run generate:wasm`.
;;
;; The four arrays lie in the memory given to it, n float64s each, at the byte offsets given.
;; The result is the sum of (w - w) over the new weights: 0 if every one is finite, NaN if not.
(module
  (import "kernel" "memory" (memory 1))
  (func (export "adam")
    (param $n i32) (param $data i32) (param $grad i32) (param $m i32) (param $v i32)
    (param $beta1 f64) (param $beta2 f64)
    ;; 1 - beta1 and 1 - beta2, as JavaScript rounds them.
    (param $rest1 f64) (param $rest2 f64)
    ;; The bias corrections 1 - beta1^t and 1 - beta2^t.
    (param $correction1 f64) (param $correction2 f64)
    (param $lr f64) (param $eps f64)
    ;; Adam's L2 term in the gradient, and AdamW's shrink of the weight (0 and 1 when unused).
    (param $decay f64) (param $shrink f64)
    (result f64)
    (local $i i32) (local $at i32) (local $pairs i32)
    (local $value v128) (local $g v128) (local $mean v128) (local $square v128)
    (local $next v128) (local $poison v128)
    (local $value1 f64) (local $g1 f64) (local $mean1 f64) (local $square1 f64) (local $next1 f64)
    (local $poison1 f64)
    (local.set $pairs (i32.and (local.get $n) (i32.const -2)))
    (block $done
      (loop $pair
        (br_if $done (i32.ge_u (local.get $i) (local.get $pairs)))
        (local.set $at (i32.shl (local.get $i) (i32.const 3)))
        (local.set $value (v128.load (i32.add (local.get $data) (local.get $at))))
        ;; g = grad + decay · value
        (local.set $g
          (f64x2.add
            (v128.load (i32.add (local.get $grad) (local.get $at)))
            (f64x2.mul (f64x2.splat (local.get $decay)) (local.get $value))))
        ;; mean = beta1 · m + (1 - beta1) · g
        (local.set $mean
          (f64x2.add
            (f64x2.mul (f64x2.splat (local.get $beta1)) (v128.load (i32.add (local.get $m) (local.get $at))))
            (f64x2.mul (f64x2.splat (local.get $rest1)) (local.get $g))))
        ;; square = beta2 · v + ((1 - beta2) · g) · g
        (local.set $square
          (f64x2.add
            (f64x2.mul (f64x2.splat (local.get $beta2)) (v128.load (i32.add (local.get $v) (local.get $at))))
            (f64x2.mul (f64x2.mul (f64x2.splat (local.get $rest2)) (local.get $g)) (local.get $g))))
        (v128.store (i32.add (local.get $m) (local.get $at)) (local.get $mean))
        (v128.store (i32.add (local.get $v) (local.get $at)) (local.get $square))
        ;; next = value · shrink - (lr · (mean / correction1)) / (sqrt(square / correction2) + eps)
        (local.set $next
          (f64x2.sub
            (f64x2.mul (local.get $value) (f64x2.splat (local.get $shrink)))
            (f64x2.div
              (f64x2.mul
                (f64x2.splat (local.get $lr))
                (f64x2.div (local.get $mean) (f64x2.splat (local.get $correction1))))
              (f64x2.add
                (f64x2.sqrt (f64x2.div (local.get $square) (f64x2.splat (local.get $correction2))))
                (f64x2.splat (local.get $eps))))))
        (v128.store (i32.add (local.get $data) (local.get $at)) (local.get $next))
        (local.set $poison (f64x2.add (local.get $poison) (f64x2.sub (local.get $next) (local.get $next))))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $pair)))
    (local.set $poison1
      (f64.add (f64x2.extract_lane 0 (local.get $poison)) (f64x2.extract_lane 1 (local.get $poison))))
    ;; An odd count leaves one weight: the same rule on one number.
    (if (i32.lt_u (local.get $i) (local.get $n))
      (then
        (local.set $at (i32.shl (local.get $i) (i32.const 3)))
        (local.set $value1 (f64.load (i32.add (local.get $data) (local.get $at))))
        (local.set $g1
          (f64.add
            (f64.load (i32.add (local.get $grad) (local.get $at)))
            (f64.mul (local.get $decay) (local.get $value1))))
        (local.set $mean1
          (f64.add
            (f64.mul (local.get $beta1) (f64.load (i32.add (local.get $m) (local.get $at))))
            (f64.mul (local.get $rest1) (local.get $g1))))
        (local.set $square1
          (f64.add
            (f64.mul (local.get $beta2) (f64.load (i32.add (local.get $v) (local.get $at))))
            (f64.mul (f64.mul (local.get $rest2) (local.get $g1)) (local.get $g1))))
        (f64.store (i32.add (local.get $m) (local.get $at)) (local.get $mean1))
        (f64.store (i32.add (local.get $v) (local.get $at)) (local.get $square1))
        (local.set $next1
          (f64.sub
            (f64.mul (local.get $value1) (local.get $shrink))
            (f64.div
              (f64.mul (local.get $lr) (f64.div (local.get $mean1) (local.get $correction1)))
              (f64.add (f64.sqrt (f64.div (local.get $square1) (local.get $correction2))) (local.get $eps)))))
        (f64.store (i32.add (local.get $data) (local.get $at)) (local.get $next1))
        (local.set $poison1 (f64.add (local.get $poison1) (f64.sub (local.get $next1) (local.get $next1))))))
    (local.get $poison1)))
