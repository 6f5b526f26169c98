/// Generalised advantage estimation over whole meta-episodes (SPEC §4): no masking at episode
/// boundaries, since the objective is the meta-episode's discounted return.
module RL2.Rl.Gae

open TorchSharp
open RL2

/// rewards, values [B; T] → advantages A [B; T] and value targets R = V + A [B; T], with V_T = A_T = 0.
let advantages (gamma: float32) (lambda: float32) (rewards: Tensor) (values: Tensor) =
    use _ = torch.no_grad ()
    scoped2 (fun () ->
        let steps = int rewards.shape[1]
        let zero = torch.zeros_like(values.narrow(1L, 0L, 1L))
        let next = torch.cat([| values.narrow(1L, 1L, int64 steps - 1L); zero |], 1L)
        let deltas = rewards.add(next.mul(gamma.ToScalar())).sub_ values
        let adv = Array.zeroCreate steps
        let mutable carry = zero.squeeze 1L
        for t in steps - 1 .. -1 .. 0 do
            carry <- deltas.select(1L, int64 t).add(carry, (gamma * lambda).ToScalar())
            adv[t] <- carry
        let advantages = torch.stack(adv, 1L)
        advantages, values.add advantages)

/// Advantages standardised to zero mean, unit variance (σ = √var + 1e-8) from the given global
/// mean and variance, and value targets reset to V + standardised A.
let standardise (mean: float32) (variance: float32) (advantages: Tensor) (values: Tensor) =
    let std = sqrt variance + 1e-8f
    scoped2 (fun () ->
        let a = advantages.sub(mean.ToScalar()).div(std.ToScalar())
        a, values.add a)
