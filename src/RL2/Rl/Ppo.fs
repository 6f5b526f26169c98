/// PPO losses as pure functions of tensors (SPEC §5).
module RL2.Rl.Ppo

open TorchSharp
open RL2

type Hyper =
    { ClipParam: float32
      EntropyCoef: float32 }

type PolicyLoss =
    { Loss: Tensor
      Surrogate: Tensor
      Entropy: Tensor
      ClipFrac: Tensor }

/// Clipped surrogate with entropy bonus. logits [B; T; A], actions [B; T] int64,
/// old log-probabilities and advantages [B; T]; every statistic a mean over all B×T steps.
let policyLoss (h: Hyper) (logits: Tensor) (actions: Tensor) (oldLogProbs: Tensor) (advantages: Tensor) =
    let logp = logits.log_softmax -1L
    let taken = logp.gather(-1L, actions.unsqueeze -1L).squeeze -1L
    let ratio = taken.sub(oldLogProbs).exp()
    let clipped = ratio.clamp((1.0f - h.ClipParam).ToScalar(), (1.0f + h.ClipParam).ToScalar())
    let s1 = advantages.mul ratio
    let s2 = advantages.mul clipped
    let surrogate = torch.minimum(s1, s2).mean()
    let entropy = logp.exp().mul(logp).sum(-1L).neg().mean()
    { Loss = surrogate.add(entropy, h.EntropyCoef).neg()
      Surrogate = surrogate
      Entropy = entropy
      ClipFrac = s1.gt(s2).to_type(ScalarType.Float32).mean() }

/// Huber loss (δ = 1) between value predictions and targets, [B; T] each, mean over steps.
let valueLoss (values: Tensor) (targets: Tensor) =
    torch.nn.functional.huber_loss(values, targets, 1.0, torch.nn.Reduction.Mean)
