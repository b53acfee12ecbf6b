"""Rung 2's TODOs written out (spliced into the starter by gradschool.exercises.fill)."""


class Neuron:
    def __call__(self, x):
        act = self.b
        for wi, xi in zip(self.w, x):
            act = act + wi * xi
        return act.tanh()


class MLP:
    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]
