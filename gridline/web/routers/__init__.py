"""The portal's areas, one APIRouter each."""
