"""The anny body posed in batches and its offscreen rendering (torch, anny and pyrender are
imported here only, when a body or renderer is made)."""

from __future__ import annotations

import os

import numpy as np

from valgus.synth.camera import Camera
from valgus.synth.rig import Rig
from valgus.synth.scene import Lighting, Look, _rgb
from valgus.synth.truth import HIP, KNEE

# ----------------------------------------------------------------------------------------------
# Body model and rendering (torch / anny / pyrender imported here only)


class Body:
    """An anny body with one phenotype, posed in batches."""

    def __init__(self, look: Look) -> None:
        import anny
        import torch

        self.torch = torch
        torch.set_grad_enabled(False)
        self.model = anny.Anny()
        self.look = look
        self.phen = {
            k: torch.tensor([v], dtype=self.model.dtype) for k, v in look.phenotypes().items()
        }
        out = self.model(phenotype_kwargs=self.phen)
        self.rest_poses = out["rest_bone_poses"][0].double().numpy()
        self.rest_vertices = out["rest_vertices"][0].double().numpy()
        self.faces = self.model.get_triangular_faces().numpy()
        self.rig = Rig(
            self.model.bone_labels, list(self.model.bone_parents), self.rest_poses[:, :3, 3]
        )
        self.colors = self._vertex_colors()

    def _vertex_colors(self) -> np.ndarray:
        look, rig = self.look, self.rig
        w = self.model.vertex_bone_weights.numpy()
        idx = self.model.vertex_bone_indices.numpy()
        bone = idx[np.arange(len(idx)), np.argmax(w, axis=1)]
        names = np.array(rig.labels)[bone]
        v = self.rest_vertices
        h = rig.rest_heads
        hip_z = h[rig.j(f"{HIP}.L"), 2]
        knee_z = h[rig.j(f"{KNEE}.L"), 2]
        shoulder_z = h[rig.j("upperarm01.L"), 2]
        eye = h[rig.j("eye.L")] if "eye.L" in rig.index else h[rig.j("head")] + [0, -0.08, 0.05]
        waist_z = hip_z + 0.11
        shorts_z = knee_z + 0.55 * (hip_z - knee_z)
        col = np.tile(np.array(_rgb(look.skin)), (len(v), 1))

        def starts(*prefixes: str) -> np.ndarray:
            return np.array([any(n.startswith(p) for p in prefixes) for n in names])

        arm = starts(
            "clavicle", "shoulder", "upperarm", "lowerarm", "wrist", "finger", "metacarpal"
        )
        head = starts(
            "head",
            "neck",
            "eye",
            "jaw",
            "tongue",
            "special",
            "oris",
            "levator",
            "temporalis",
            "risorius",
            "orbicularis",
        )
        foot = starts("foot", "toe")
        eyes = starts("eye")
        trunk_legs = ~(arm | head | foot)
        col[trunk_legs & (v[:, 2] > waist_z)] = _rgb(look.shirt)
        col[trunk_legs & (v[:, 2] <= waist_z) & (v[:, 2] > shorts_z)] = _rgb(look.shorts)
        sleeve = arm & starts("clavicle", "shoulder", "upperarm01") & (v[:, 2] > shoulder_z - 0.10)
        col[sleeve] = _rgb(look.shirt)
        col[foot] = _rgb(look.shoes)
        # Hair: top and back of the head.
        hair = head & (
            (v[:, 2] > eye[2] + 0.045) | ((v[:, 2] > eye[2] - 0.10) & (v[:, 1] > eye[1] + 0.075))
        )
        col[hair] = _rgb(look.hair)
        col[eyes] = (0.12, 0.1, 0.09)
        return col

    def vertices(self, Gs: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posed vertices (B, V, 3) and bone heads (B, J, 3) for world rotations (B, J, 3, 3)."""
        torch = self.torch
        B = len(Gs)
        D = np.einsum("bjik,jkl->bjil", Gs, self.rest_poses[:, :3, :3])
        P = np.tile(np.eye(4), (B, len(self.rig.labels), 1, 1))
        P[:, :, :3, :3] = D
        P[:, 0, :3, 3] = self.rig.rest_heads[0]
        out = self.model(
            pose_parameters=torch.tensor(P, dtype=self.model.dtype),
            phenotype_kwargs=self.phen,
            pose_parameterization="world-orient",
        )
        verts = out["vertices"].double().numpy() + offsets[:, None, :]
        heads = out["bone_poses"][:, :, :3, 3].double().numpy() + offsets[:, None, :]
        return verts, heads


class Renderer:
    def __init__(
        self,
        cam: Camera,
        look: Look,
        faces: np.ndarray,
        colors: np.ndarray,
        light: Lighting | None = None,
        shadows: bool = False,
    ) -> None:
        os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
        import pyrender
        import trimesh

        self.flags = pyrender.RenderFlags.SHADOWS_DIRECTIONAL if shadows else 0

        self.pyrender, self.trimesh = pyrender, trimesh
        self.faces, self.colors = faces, colors
        light = light or Lighting()
        self.scene = pyrender.Scene(
            bg_color=[*_rgb(look.wall), 1.0], ambient_light=[light.ambient] * 3
        )
        floor = trimesh.creation.box(extents=[12.0, 12.0, 0.02])
        floor.apply_translation([0, 2.0, -0.01])
        floor.visual.vertex_colors = [*(int(255 * c) for c in _rgb(look.floor)), 255]
        self.scene.add(pyrender.Mesh.from_trimesh(floor, smooth=False))
        wall = trimesh.creation.box(extents=[12.0, 0.02, 6.0])
        wall.apply_translation([0, 3.5, 3.0])
        wall.visual.vertex_colors = [*(int(255 * c) for c in _rgb(look.wall)), 255]
        self.scene.add(pyrender.Mesh.from_trimesh(wall, smooth=False))
        self.cam_node = self.scene.add(
            pyrender.PerspectiveCamera(yfov=cam.yfov, aspectRatio=cam.width / cam.height),
            pose=cam.pose_matrix(),
        )
        # Key light (by default from above the camera, to the person's right), fill from the
        # person's left.
        key = np.eye(4)
        key[:3, :3] = _look_rotation(light.key_direction())
        self.scene.add(
            pyrender.DirectionalLight(color=[1.0, 0.97, 0.92], intensity=3.2 * light.intensity),
            pose=key,
        )
        fill = np.eye(4)
        fill[:3, :3] = _look_rotation(np.array([-1.0, 0.6, -0.3]))
        self.scene.add(
            pyrender.DirectionalLight(color=[0.9, 0.95, 1.0], intensity=1.4 * light.intensity),
            pose=fill,
        )
        self.renderer = pyrender.OffscreenRenderer(cam.width, cam.height)
        self.node = None

    def render(self, vertices: np.ndarray, cam: Camera | None = None) -> np.ndarray:
        """(H, W, 3) uint8 RGB of the body with these vertices (V, 3), seen by ``cam`` (a moved
        camera of the same size) or by the camera the renderer was made with."""
        if cam is not None:
            self.cam_node.camera.yfov = cam.yfov
            self.scene.set_pose(self.cam_node, cam.pose_matrix())
        tm = self.trimesh.Trimesh(vertices, self.faces, vertex_colors=self.colors, process=False)
        mesh = self.pyrender.Mesh.from_trimesh(tm, smooth=True)
        if self.node is not None:
            self.scene.remove_node(self.node)
        self.node = self.scene.add(mesh)
        color, _ = self.renderer.render(self.scene, flags=self.flags)
        return color

    def close(self) -> None:
        self.renderer.delete()


def _look_rotation(direction: np.ndarray) -> np.ndarray:
    """Rotation whose -z axis points along ``direction`` (pyrender lights shine along -z)."""
    f = direction / np.linalg.norm(direction)
    right = np.cross(f, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, f)
    return np.stack([right, up, -f], axis=1)
