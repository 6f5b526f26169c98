/// The baselines' own random numbers: xoshiro256** seeded through SplitMix64, with the few
/// distributions they need (uniform, normal, gamma, beta, Dirichlet). Baselines keep their beliefs
/// in plain arrays, so drawing from a torch Generator per element would cost a native call each;
/// this generator is plain .NET, fully determined by its seed and identical on every platform.
namespace RL2.Baselines

open System

[<Sealed; AllowNullLiteral>]
type Rng(seed: uint64) =
    let mutable sm = seed
    let splitMix () =
        sm <- sm + 0x9E3779B97F4A7C15UL
        let mutable z = sm
        z <- (z ^^^ (z >>> 30)) * 0xBF58476D1CE4E5B9UL
        z <- (z ^^^ (z >>> 27)) * 0x94D049BB133111EBUL
        z ^^^ (z >>> 31)
    let mutable s0 = splitMix ()
    let mutable s1 = splitMix ()
    let mutable s2 = splitMix ()
    let mutable s3 = splitMix ()
    let rotl (x: uint64) (k: int) = (x <<< k) ||| (x >>> (64 - k))

    member _.NextUInt64() =
        let result = rotl (s1 * 5UL) 7 * 9UL
        let t = s1 <<< 17
        s2 <- s2 ^^^ s0
        s3 <- s3 ^^^ s1
        s1 <- s1 ^^^ s2
        s0 <- s0 ^^^ s3
        s2 <- s2 ^^^ t
        s3 <- rotl s3 45
        result

    /// Uniform on [0, 1), 53 random bits.
    member this.Uniform() = float (this.NextUInt64() >>> 11) * (1.0 / 9007199254740992.0)

    /// Uniform on {0, …, n-1}.
    member this.Int(n: int) = int ((this.NextUInt64() >>> 11) % uint64 n)

    /// Standard normal (Box–Muller; one draw per call, so the stream does not depend on parity).
    member this.Normal() =
        let u1 = 1.0 - this.Uniform() // (0, 1]
        let u2 = this.Uniform()
        sqrt (-2.0 * log u1) * cos (2.0 * Math.PI * u2)

    /// Gamma(shape, 1) by Marsaglia and Tsang (2000); shape < 1 boosted by U^(1/shape).
    member this.Gamma(shape: float) =
        if shape < 1.0 then
            let u = 1.0 - this.Uniform()
            this.Gamma(shape + 1.0) * Math.Pow(u, 1.0 / shape)
        else
            let d = shape - 1.0 / 3.0
            let c = 1.0 / sqrt (9.0 * d)
            let mutable result = nan
            while Double.IsNaN result do
                let x = this.Normal()
                let v = 1.0 + c * x
                if v > 0.0 then
                    let v3 = v * v * v
                    let u = 1.0 - this.Uniform()
                    if log u < 0.5 * x * x + d - d * v3 + d * log v3 then result <- d * v3
            result

    /// Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b).
    member this.Beta(a: float, b: float) =
        let x = this.Gamma a
        let y = this.Gamma b
        x / (x + y)

    /// Dirichlet(alpha[offset .. offset+n-1]) written to target[offset ..].
    member this.Dirichlet(alpha: float[], target: float[], offset: int, n: int) =
        let mutable total = 0.0
        for i in offset .. offset + n - 1 do
            let g = this.Gamma alpha[i]
            target[i] <- g
            total <- total + g
        for i in offset .. offset + n - 1 do
            target[i] <- target[i] / total

module Rng =
    /// A generator for stream `stream` of `seed`, derived like `Trainer.generator`'s streams.
    let create (seed: int64) (stream: int) = Rng(uint64 (seed * 1_000_003L + int64 stream))
